"""Handwritten digit classifier (a small PyTorch CNN) with DEEPaaS's module
interface: see api.py."""
