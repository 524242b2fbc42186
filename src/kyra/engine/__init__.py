"""The executor, error capture and the workflow state machine."""
