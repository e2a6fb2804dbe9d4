"""The Jupyter layer: the only part of the package that talks to IPython and ipywidgets."""
