"""USER, the paper's user-study metric, as a small local web app."""
