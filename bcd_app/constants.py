"""Domain constants shared by the API, the services and the migrations."""

# Capture angles, in the order the frontend shows them.
ANGLES = ("front", "left", "right", "up", "down", "raised")
SESSION_TYPES = ("full", "quick")
# Distinct angles a session needs before it can be completed.
MIN_ANGLES = {"full": 3, "quick": 1}

# Size of the default embedder's vector (EfficientNet-Lite0 pooled features).
EMBEDDING_DIM = 1280

SESSION_IN_PROGRESS = "in_progress"
SESSION_COMPLETED = "completed"
