"""Rasa's TensorFlow models loaded without tracing a training graph nobody uses.

Rasa 3.6 loads a trained DIET model (`RasaModel.load`) by building an empty model, running one training
step on one example so that every weight exists with its shape, loading the trained weights over them, and
then predicting once so that the prediction graph is traced before the first patient. With the model
compiled in graph mode, that one training step traces the whole training graph (forward pass, gradients,
optimizer): on this project's 2-core machines about 25 of the 35 seconds Rasa needs to start, paid again by
every Rasa process of a cluster and every restart. `install()` replaces that method with one that runs the
same single step eagerly (it only has to create the weights, which are overwritten next), then loads the
same weights and switches the model back to graph mode before the same warm-up prediction: the model that
serves patients is the one Rasa would have built, with the same weights and the same traced prediction
function (tests/bot/test_model_loading.py compares both on the same messages). A configuration that asks
for eager mode (`run_eagerly: true`) keeps it. `bot.rasa_run` installs it before Rasa starts.

Runs inside the Rasa server (Python 3.10 environment).
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def load(
    cls: Any,
    model_file_name: str,
    model_data_example: Any,
    predict_data_example: Any = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """`RasaModel.load` with the weight-building step run eagerly (same arguments, same result)."""
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    learning_rate = config.get(LEARNING_RATE, 0.001)
    configured = bool(config.get(RUN_EAGERLY))
    # one step on one example creates every weight with its shape; eagerly, no training graph is traced
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), run_eagerly=True)
    model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
    model.load_weights(model_file_name)
    # what Rasa's own load leaves: the configured mode (graph unless `run_eagerly: true`), a fresh optimizer
    # for fine-tuning, and the prediction function traced once before the first message
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), run_eagerly=configured)
    if not finetune_mode and predict_data_example:
        model.run_inference(predict_data_example)
    return model


def install() -> None:
    """Makes `RasaModel.load` (DIET and every other Rasa TensorFlow model) use `load` (idempotent)."""
    from rasa.utils.tensorflow.models import RasaModel

    if getattr(RasaModel.load, "__func__", None) is not load:
        RasaModel.load = classmethod(load)  # type: ignore[assignment,method-assign]
        log.debug("Rasa's TensorFlow models load without tracing a training graph")
