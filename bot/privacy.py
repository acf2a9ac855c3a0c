"""The privacy rules, as the bot's modules import them; they live in ``common.privacy`` so that
storage (which cleans the names it stores) can use them without importing the bot."""
from common.privacy import MAX_NAME_CHARS, NAMELESS, clean_name, clean_text, mask, mask_flats

__all__ = ["MAX_NAME_CHARS", "NAMELESS", "clean_name", "clean_text", "mask", "mask_flats"]
