"""pgm.py: decodes a JPEG to 8-bit luma with djpeg (libjpeg-turbo-progs), for the bench scripts."""
import subprocess
import numpy as np

def read_gray(path):
    """The photo's luma as a float64 (H, W) array in 0..255."""
    pgm = subprocess.run(["djpeg", "-grayscale", "-pnm", path], check=True, capture_output=True).stdout
    # header: magic, width, height, maxval, each followed by one whitespace byte
    fields, pos = [], 0
    while len(fields) < 4:
        while pgm[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not pgm[end:end + 1].isspace():
            end += 1
        fields.append(pgm[pos:end])
        pos = end + 1
    w, h = int(fields[1]), int(fields[2])
    return np.frombuffer(pgm[pos:pos + w * h], dtype=np.uint8).reshape(h, w).astype(np.float64)
