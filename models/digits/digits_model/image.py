"""Turning any picture of a digit into what the digits data holds: an 8x8
grey image, light ink (16) on a dark background (0), the digit filling the
frame (the UCI data was made by fitting each digit into a 32x32 box and
counting ink in 4x4 blocks)."""

import numpy as np
from PIL import Image, ImageOps


def to_pixels(path):
    """64 floats from 0 to 16; ValueError when the file is not an image."""
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
                # Transparent drawings (a canvas export): ink on white.
                rgba = img.convert("RGBA")
                bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(bg, rgba)
            grey = img.convert("L")
    except (OSError, Image.DecompressionBombError) as e:
        raise ValueError("not an image PIL can read: %s" % e)
    a = np.asarray(grey, dtype=np.float64)
    # Dark ink on a light background (paper, a canvas) is inverted: the
    # border tells which is background.
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    if border.mean() > 127:
        a = 255.0 - a
    if a.shape[0] == a.shape[1] and a.shape[0] % 8 == 0:
        # An 8x8 picture, maybe scaled up by whole pixels (a digit of the
        # data set itself): its blocks are the pixels, framing and all.
        n = a.shape[0] // 8
        blocks = a.reshape(8, n, 8, n).swapaxes(1, 2).reshape(8, 8, n * n)
        if blocks.std(axis=2).max() < 1.0:
            return blocks.mean(axis=2).reshape(64) * (16.0 / 255.0)
    a -= a.min()
    if a.max() <= 0:
        return np.zeros(64)
    # Frame the ink: its bounding box, made square around its centre.
    ys, xs = np.nonzero(a > a.max() * 0.05)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    side = max(y1 - y0, x1 - x0)
    cy, cx = (y0 + y1) / 2.0, (x0 + x1) / 2.0
    top, left = int(round(cy - side / 2.0)), int(round(cx - side / 2.0))
    square = np.zeros((side, side))
    sy0, sx0 = max(top, 0), max(left, 0)
    sy1, sx1 = min(top + side, a.shape[0]), min(left + side, a.shape[1])
    square[sy0 - top:sy1 - top, sx0 - left:sx1 - left] = a[sy0:sy1, sx0:sx1]
    img = Image.fromarray(square.astype(np.float32), mode="F")
    small = np.asarray(img.resize((8, 8), Image.BOX), dtype=np.float64)
    if small.max() > 0:
        small = small * (16.0 / small.max())
    return small.reshape(64)
