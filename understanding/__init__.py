"""Understanding patients in their own words: the labelled corpus of patient messages (train and a
frozen held-out split), the learned route classifier built from it, and language detection.

Pure Python over strings and the corpus files; no Rasa. The action server consults the classifier
through `actions/routing.py`, which keeps the decisions (what may override what)."""
