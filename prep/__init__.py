"""The app's logic: question bank, progress store, scheduling, Lab runs, judging, real model.

Importable and tested without Streamlit; only :mod:`prep.ui` and the
``prep/ui_*.py`` modules import Streamlit.
"""
