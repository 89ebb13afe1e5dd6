"""A neutral hint to take a photo again the way the earlier one was taken, when its pose is beyond what the region
comparison handles well (bench/trust_eval.py measures it up to a 5 degree turn, 6% nearer or farther, framing moved
5%)."""

from ..vision.registration import Pose

# Beyond these the comparison still runs, but the photos share less and the result is less exact.
MAX_TURN_DEG = 6.0
SCALE_RANGE = (0.92, 1.08)
MAX_SHIFT = 0.08
MIN_OVERLAP = 0.8


def retake_hint(found: Pose) -> str | None:
    """One sentence on how to hold the phone, or None when the photo can be compared as it is."""
    if not found.ok:
        return "This photo could not be matched with your first photo of this view: line up with the guide and retake."
    if abs(found.rotation_deg) > MAX_TURN_DEG:
        # A positive turn: the scene sits turned counter-clockwise in the photo, the phone was turned clockwise.
        way = "counter-clockwise" if found.rotation_deg > 0 else "clockwise"
        return f"Turn the phone slightly {way} to match your first photo of this view."
    if found.scale < SCALE_RANGE[0]:
        return "Step a little farther back to match your first photo of this view."
    if found.scale > SCALE_RANGE[1]:
        return "Step a little closer to match your first photo of this view."
    horizontal, vertical = found.shift
    if max(abs(horizontal), abs(vertical)) > MAX_SHIFT or found.overlap < MIN_OVERLAP:
        if abs(horizontal) >= abs(vertical):
            way = "left" if horizontal > 0 else "right"
            return f"Move the phone a little to the {way} to match your first photo of this view."
        way = "up" if vertical > 0 else "down"
        return f"Move the phone a little {way} to match your first photo of this view."
    return None
