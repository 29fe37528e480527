#pragma once
// PNG images of an experiment (libpng): sample grids, single images, and the confusion
// matrix as a heat map with its counts, class names and a colour scale.
//
//   experiments::write_png(run.file("samples.png"), experiments::image_grid(batch.input, 8));
//   experiments::write_png(run.file("confusion_test.png"), experiments::confusion_heatmap(confusion));
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace loom {
class Tensor;
namespace metrics {
class ConfusionMatrix;
}
}  // namespace loom

namespace loom::experiments {

// 8-bit pixels, row-major, interleaved channels (1: grayscale, 3: RGB).
struct Image {
  int width = 0, height = 0, channels = 1;
  std::vector<std::uint8_t> pixels;

  Image() = default;
  Image(int width, int height, int channels, std::uint8_t fill = 0);
  std::uint8_t* at(int x, int y) { return &pixels[(static_cast<std::size_t>(y) * width + x) * channels]; }
  // Fills a rectangle (clipped to the image) with one colour; `rgb` gives the channels used.
  void fill_rect(int x, int y, int w, int h, const std::uint8_t rgb[3]);
  // Draws text with stb_easy_font's bitmap font (about 6 px a character, 7 px high, times
  // `scale`), top-left at (x, y).
  void draw_text(int x, int y, const std::string& text, const std::uint8_t rgb[3], int scale = 1);
};

// Width in pixels of draw_text(text, scale).
int text_width(const std::string& text, int scale = 1);

// Writes a PNG file; errors (directory missing, disk full) name the file.
void write_png(const std::filesystem::path& path, const Image& image);

// One image (C, H, W), C = 1 or 3, any float dtype, mapped linearly from [low, high] to 0..255
// (values outside are clipped). low == high: the image's own minimum and maximum.
Image image_from_tensor(const Tensor& image, double low = 0, double high = 0);

// A grid of images (N, C, H, W) with `columns` per row and `padding` pixels between them, all
// scaled together (the batch's minimum and maximum map to 0 and 255).
Image image_grid(const Tensor& images, std::int64_t columns, int padding = 2);

// Heat map of a confusion matrix: rows = true class, columns = predicted class; a cell's colour
// is its share of the row (recall for the diagonal) on the viridis scale, with the count
// written in it; class names on both axes and the colour bar (0–100 % of the row) beside.
Image confusion_heatmap(const metrics::ConfusionMatrix& confusion);

}  // namespace loom::experiments
