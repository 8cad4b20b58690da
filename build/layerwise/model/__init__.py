"""The model half: data sources, models, training, export, recording and analysis, run as declared stages."""
