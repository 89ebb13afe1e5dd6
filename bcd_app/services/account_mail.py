"""The mails of account safety, in plain words: no photo, result or score, no word of what the photos are."""

from .mail import Mail

SIGN_OFF = "\n\nIf you did not ask for this, you can ignore this mail; your account stays as it is.\n"


def verify_email(to: str, link: str) -> Mail:
    """The link that confirms her address."""
    return Mail(
        to, "Confirm your email address", f"Open this link to confirm your email address:\n\n{link}\n{SIGN_OFF}"
    )


def account_exists(to: str, link: str) -> Mail:
    """Someone registered with an address that has an account: tell her, with a way back in."""
    return Mail(
        to,
        "You already have an account",
        "Someone (perhaps you) tried to create an account with this email address, which already has one.\n\n"
        f"If you forgot your password, set a new one here (the link works once, for 30 minutes):\n\n{link}\n{SIGN_OFF}",
    )


def reset_password(to: str, link: str) -> Mail:
    """The link that sets a new password."""
    return Mail(
        to,
        "Set a new password",
        f"Open this link to set a new password (it works once, for 30 minutes):\n\n{link}\n\n"
        "Setting it ends every sign-in of your account." + SIGN_OFF,
    )


def notice(to: str, subject: str, what: str) -> Mail:
    """A notice of something that happened to her account, with what to do if it was not her."""
    return Mail(
        to,
        subject,
        f"{what}\n\nIf this was not you, reset your password from the sign-in page and end your other sign-ins "
        "in your account's settings.\n",
    )
