"""Image validation and re-encoding (pure: bytes in, WebP variants out; no storage, no database).

An upload is an image only if Pillow decodes all of it: ``verify`` checks the structure, ``load``
decodes every pixel (a truncated file fails here). The pixel count is checked from the header before
any decoding, so a small file that inflates into a huge bitmap (a decompression bomb) is refused
cheaply. The pixels are then turned upright (EXIF orientation), copied into a fresh image (no EXIF,
XMP, ICC or comments survive) and written as WebP at a few widths, never wider than the original.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from zhongcao.errors import InvalidInput

# What we decode: the formats phones and cameras produce plus WebP. Never SVG (a document, not pixels).
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
SOURCE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
VARIANT_WIDTHS = (1080, 540, 240)
# WebP cannot hold a side longer than this: a strip so long that even its narrowest size would need one
# is refused rather than distorted.
WEBP_MAX_SIDE = 16383
WEBP_QUALITY = 82
FIELD = "file"
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class EncodedVariant:
    variant: str
    width: int
    height: int
    data: bytes
    content_type: str = "image/webp"


@dataclass(frozen=True)
class ProcessedImage:
    source_type: str
    width: int
    height: int
    variants: list[EncodedVariant]


def _not_an_image(reason: str) -> InvalidInput:
    return InvalidInput(f"the file is not a usable image: {reason}", code="invalid_image", field=FIELD)


def _too_many_pixels(width: int, height: int, max_pixels: int) -> InvalidInput:
    return InvalidInput(
        f"the image is {width}×{height} pixels; at most {max_pixels:,} pixels are accepted",
        code="too_many_pixels",
        field=FIELD,
        details={"width": width, "height": height, "max_pixels": max_pixels},
    )


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own bomb limit; our limit (checked next) is the one that decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise InvalidInput("the image has far too many pixels", code="too_many_pixels", field=FIELD) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _not_an_image("unrecognised format (JPEG, PNG, WebP or GIF)") from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise _not_an_image("it has no pixels")
    if width * height > max_pixels:
        raise _too_many_pixels(width, height, max_pixels)
    return image


# EXIF orientations that turn the picture a quarter: the upright width is the stored height.
QUARTER_TURNS = {5, 6, 7, 8}


def decode(data: bytes, max_pixels: int) -> tuple[Image.Image, str, tuple[int, int]]:
    """Verify and fully decode ``data``; return the upright first frame, the source type and the upright
    original's size (a large JPEG is decoded at a reduced scale, never below the widest size we keep)."""
    image = _open(data, max_pixels)
    source_type = SOURCE_TYPES[image.format or "PNG"]
    try:
        image.verify()
    except Exception as exc:  # Pillow raises many kinds for a damaged file
        raise _not_an_image("the file is damaged") from exc
    image = _open(data, max_pixels)  # verify() leaves the image unusable: open it again to decode
    width, height = image.size
    try:
        if image.getexif().get(EXIF_ORIENTATION) in QUARTER_TURNS:
            width, height = height, width
        if image.format == "JPEG":
            # JPEG decodes at 1/2, 1/4 or 1/8 scale for a fraction of the work (every byte is still read
            # and checked). A square box keeps both sides at least as wide as our widest size, whichever
            # way the picture turns.
            widest = max(VARIANT_WIDTHS)
            image.draft("RGB", (widest, widest))
        image.load()
        upright = ImageOps.exif_transpose(image) or image
    except Image.DecompressionBombError as exc:
        raise InvalidInput("the image has far too many pixels", code="too_many_pixels", field=FIELD) from exc
    except Exception as exc:  # truncated data, bad Huffman tables, broken chunks...
        raise _not_an_image("the file is damaged or truncated") from exc
    return upright, source_type, (width, height)


def _clean_copy(image: Image.Image) -> Image.Image:
    """The pixels alone, in a mode WebP can hold: no metadata is carried over."""
    mode = "RGBA" if image.has_transparency_data else "RGB"
    try:
        converted = image.convert(mode)
    except (ValueError, OSError) as exc:  # a pixel format Pillow decodes but cannot convert
        raise _not_an_image(f"its pixel format ({image.mode}) is not supported") from exc
    clean = Image.new(mode, converted.size)
    clean.paste(converted)
    return clean


def encode_variants(image: Image.Image, widths: tuple[int, ...] = VARIANT_WIDTHS) -> list[EncodedVariant]:
    """WebP at each width in ``widths`` that is narrower than the image, plus the image at its own width
    when it is narrower than the widest size: never upscaled, never two variants of one width."""
    clean = _clean_copy(image)
    width, height = clean.size
    targets = sorted({min(w, width) for w in widths}, reverse=True)
    # Only the sizes WebP can hold: a very long strip keeps its narrower sizes, or is refused.
    targets = [t for t in targets if round(height * t / width) <= WEBP_MAX_SIDE]
    if not targets:
        raise InvalidInput(
            f"the image is {width}×{height} pixels: too long and narrow to show",
            code="unsupported_dimensions",
            field=FIELD,
            details={"width": width, "height": height},
        )
    variants = []
    for target in targets:
        if target == width:
            resized = clean
        else:
            target_height = max(1, round(height * target / width))
            resized = clean.resize((target, target_height), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        resized.save(out, format="WEBP", quality=WEBP_QUALITY, method=4)
        variants.append(EncodedVariant(f"w{target}", resized.width, resized.height, out.getvalue()))
    return variants


def process_image(data: bytes, *, max_pixels: int) -> ProcessedImage:
    image, source_type, (width, height) = decode(data, max_pixels)
    variants = encode_variants(image)
    return ProcessedImage(source_type=source_type, width=width, height=height, variants=variants)
