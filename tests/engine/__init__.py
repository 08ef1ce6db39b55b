"""Tests of the evaluation engine, protocols and the evaluate/demo commands."""
