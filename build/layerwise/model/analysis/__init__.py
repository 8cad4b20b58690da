"""What the article measures about the trained models: baselines and the manifold question."""
