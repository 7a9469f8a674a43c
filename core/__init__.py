"""Project-wide pieces every service shares: typed settings and the clinic configuration."""
