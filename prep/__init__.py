"""The app's logic: question bank, progress store, scheduling, Lab runs, judging, real model.

Importable and tested without Streamlit; only :mod:`prep.ui` imports Streamlit.
"""
