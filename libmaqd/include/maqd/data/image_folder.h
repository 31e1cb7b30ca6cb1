// Your own images as a data set: one folder per class, PGM, PPM, PNG or
// JPEG files (maqd/data/image_file.h), all of one size and channel count:
//
//   DIR/train/CLASS/IMAGE     the training set, one subfolder per class
//   DIR/test/CLASS/IMAGE      the test set (the same classes, or some of them)
//
// Or, with options.test_split = f in (0, 1), one folder holding the class
// folders, DIR/CLASS/IMAGE, split in two: of every class's files in name
// order, the last of every 1/f (the i-th where ⌊(i+1)f⌋ > ⌊if⌋) are the
// test set and the others the training set, the same two parts on every
// load and on every machine.
//
// Labels follow the class folders' names in byte order (as `ls` in the C
// locale lists them), taken from DIR/train (with a split, DIR) for both
// sets, so the two agree on every label; or, where options.classes is given
// (a trained network's, to evaluate it on other images), that list, and
// DIR/train is not needed.
// With options.resize every image is scaled to that size as
// it is read (maqd/data/image_file.h's resize_image); they then need only
// agree on grey or colour.
// The set holds the first image (by file name) of every class, then the
// second of each, and so on, so --train-limit's first N images cover the
// classes alike. Throws maqd::Error naming the folder or file and what was
// expected: a missing set, a class without images, a file that is not an
// image file (by name, checked for every file before any is read), an
// image of another size than the first, a test class the training set
// lacks.
#pragma once

#include <string>
#include <vector>

#include "maqd/data/dataset.h"

namespace maqd::data {

// The part of DIR a load reads, for messages: "DIR/train", "DIR/test", or
// with a test split "DIR (training part)", "DIR (test part)".
std::string folder_part_name(const std::string& dir, bool train, double test_split);

// Named "folder/train" or "folder/test"; class_names holds the classes.
// options: the label order, a limit (only the files the set's first `limit`
// samples need are read) and progress (maqd/data/dataset.h).
Dataset load_image_folder(const std::string& dir, bool train, const LoadOptions& options = {});

}  // namespace maqd::data
