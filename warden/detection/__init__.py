"""Warden detection: violence / hate / harassment scoring for posts (see docs/detection.md)."""
from .detector import Detection, Detector, Span, get_detector

__all__ = ["Detection", "Detector", "Span", "get_detector"]
