"""Handwritten digit classifier (scikit-learn) with DEEPaaS's module
interface: see api.py."""
