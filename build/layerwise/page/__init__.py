"""The page half: articles and their settings, Markdown content, figures, and the rendered site."""
