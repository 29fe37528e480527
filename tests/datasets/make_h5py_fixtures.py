#!/usr/bin/python3
"""Writes the h5py fixtures of tests/data/fixtures/ (DESIGN §4: files written by h5py must read).

Not run by the build: h5py is not a project dependency (apt-get install python3-h5py to
regenerate). The outputs are committed; tests/data/fixtures/README.md describes each file.

Content, the same in every file so that a reader's test can check values:
  images[i, 0, y, x] = (i*64 + y*8 + x) % 256   (uint8; float32 files hold that / 255)
  labels[i]          = i % 10                    (int64)
  masks[i, y, x]     = (i + y + x) % 3           (int64)
"""
import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "fixtures")
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


def images(n, size=8):
    i, y, x = np.meshgrid(np.arange(n), np.arange(size), np.arange(size), indexing="ij")
    return ((i * 64 + y * 8 + x) % 256).astype(np.uint8).reshape(n, 1, size, size)


def labels(n):
    return (np.arange(n) % 10).astype(np.int64)


def masks(n, size=8):
    i, y, x = np.meshgrid(np.arange(n), np.arange(size), np.arange(size), indexing="ij")
    return ((i + y + x) % 3).astype(np.int64)


def write(name, build):
    path = os.path.join(OUT, name)
    # h5py's defaults (the oldest file format, what users get); track_times=False on every
    # dataset keeps the files identical from one run to the next.
    with h5py.File(path, "w") as f:
        build(f)
    print(f"{name}: {os.path.getsize(path)} bytes")


def split(f, name, n, image_dtype=np.uint8, class_names=None, label_data=None, **storage):
    """A split group; label_data replaces labels(n) (False: no labels dataset)."""
    x = images(n)
    if image_dtype == np.float32:
        x = (x / 255.0).astype(np.float32)
    g = f.create_group(name)
    d = g.create_dataset("images", data=x, track_times=False, **storage)
    scaled = images(n) / 255.0
    d.attrs["mean"] = float(scaled.mean())
    d.attrs["std"] = float(scaled.std())
    if label_data is not False:
        g.create_dataset("labels", data=labels(n) if label_data is None else label_data, track_times=False)
    if class_names is not None:
        g.attrs["class_names"] = class_names
    return g


def main():
    os.makedirs(OUT, exist_ok=True)

    def uint8_gzip_odd_chunks(f):
        f.attrs["class_names"] = CLASS_NAMES  # a list: 1-D variable-length UTF-8 strings
        split(f, "train", 20, chunks=(7, 1, 8, 8), compression="gzip", compression_opts=4)
        split(f, "test", 10, chunks=(7, 1, 8, 8), compression="gzip", compression_opts=4)
    write("h5py_uint8_gzip_odd_chunks.h5", uint8_gzip_odd_chunks)

    def float32_contiguous(f):
        # numpy bytes: fixed-length ASCII strings, the other way h5py stores string arrays.
        fixed = np.array([n.encode() for n in CLASS_NAMES], dtype="S")
        split(f, "train", 20, image_dtype=np.float32, class_names=fixed)
    write("h5py_float32_contiguous.h5", float32_contiguous)

    def uint8_small_chunks(f):
        f.attrs["class_names"] = CLASS_NAMES
        split(f, "train", 20, chunks=(3, 1, 4, 4))
    write("h5py_uint8_chunks_uncompressed.h5", uint8_small_chunks)

    def with_masks(f):
        g = split(f, "train", 20, class_names=CLASS_NAMES, chunks=(8, 1, 8, 8), compression="gzip", shuffle=True)
        g.create_dataset("masks", data=masks(20), chunks=(8, 8, 8), compression="gzip", track_times=False)
    write("h5py_masks.h5", with_masks)

    # ---- wrongly laid out: each must be an IOError naming the file and the dataset path ----
    def labels_float32(f):
        split(f, "train", 20, class_names=CLASS_NAMES, label_data=labels(20).astype(np.float32))
    write("bad_labels_float32.h5", labels_float32)

    def images_rank3(f):
        g = f.create_group("train")
        g.create_dataset("images", data=images(20).reshape(20, 8, 8), track_times=False)
        g.create_dataset("labels", data=labels(20), track_times=False)
    write("bad_images_rank3.h5", images_rank3)

    def count_mismatch(f):
        split(f, "train", 20, class_names=CLASS_NAMES, label_data=labels(18))
    write("bad_count_mismatch.h5", count_mismatch)

    def missing_labels(f):
        split(f, "train", 20, class_names=CLASS_NAMES, label_data=False)
    write("bad_missing_labels.h5", missing_labels)

    def images_int16(f):
        g = f.create_group("train")
        g.create_dataset("images", data=images(20).astype(np.int16), track_times=False)
        g.create_dataset("labels", data=labels(20), track_times=False)
    write("bad_images_int16.h5", images_int16)


if __name__ == "__main__":
    main()
