#include "png.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <stb/stb_easy_font.h>
#include <stb/stb_image_write.h>

#include "loom/metrics.hpp"
#include "loom/tensor.hpp"

namespace loom::experiments {

Image::Image(int width, int height, int channels, std::uint8_t fill)
    : width(width), height(height), channels(channels),
      pixels(static_cast<std::size_t>(width) * height * channels, fill) {}

void Image::fill_rect(int x, int y, int w, int h, const std::uint8_t rgb[3]) {
  for (int yy = std::max(y, 0); yy < std::min(y + h, height); ++yy)
    for (int xx = std::max(x, 0); xx < std::min(x + w, width); ++xx) {
      std::uint8_t* p = at(xx, yy);
      if (channels == 1) p[0] = static_cast<std::uint8_t>((rgb[0] + rgb[1] + rgb[2]) / 3);
      else std::copy(rgb, rgb + 3, p);
    }
}

// stb_easy_font builds each character from axis-aligned quads (4 vertices of 16 bytes:
// x, y, z floats and a colour), which we fill as rectangles.
void Image::draw_text(int x, int y, const std::string& text, const std::uint8_t rgb[3], int scale) {
  std::vector<char> vertices(text.size() * 400 + 1000);
  std::string copy = text;
  const int quads = stb_easy_font_print(0, 0, copy.data(), nullptr, vertices.data(), static_cast<int>(vertices.size()));
  for (int q = 0; q < quads; ++q) {
    const float* v0 = reinterpret_cast<const float*>(vertices.data() + q * 64);
    const float* v2 = reinterpret_cast<const float*>(vertices.data() + q * 64 + 32);
    const int x0 = x + static_cast<int>(std::lround(v0[0] * scale));
    const int y0 = y + static_cast<int>(std::lround(v0[1] * scale));
    const int x1 = x + static_cast<int>(std::lround(v2[0] * scale));
    const int y1 = y + static_cast<int>(std::lround(v2[1] * scale));
    fill_rect(std::min(x0, x1), std::min(y0, y1), std::abs(x1 - x0), std::abs(y1 - y0), rgb);
  }
}

int text_width(const std::string& text, int scale) {
  std::string copy = text;
  return stb_easy_font_width(copy.data()) * scale;
}

void write_png(const std::filesystem::path& path, const Image& image) {
  // stb writes to a temporary name first, so a failed write never leaves half a PNG behind.
  const std::filesystem::path partial = path.string() + ".partial";
  const int ok = stbi_write_png(partial.c_str(), image.width, image.height, image.channels, image.pixels.data(),
                                image.width * image.channels);
  std::error_code error;
  if (ok) std::filesystem::rename(partial, path, error);
  if (!ok || error) {
    std::filesystem::remove(partial, error);
    throw std::runtime_error(fmt::format("write_png: cannot write {} (is the folder writable? disk full?)", path.string()));
  }
}

namespace {

// Copies images (N, C, H, W) into `out` at the grid positions, scaled from [low, high].
void paste(Image& out, const std::vector<float>& values, std::int64_t n, std::int64_t c, std::int64_t h,
           std::int64_t w, std::int64_t columns, int padding, double low, double high) {
  const double scale = high > low ? 255.0 / (high - low) : 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const int left = padding + static_cast<int>((i % columns) * (w + padding));
    const int top = padding + static_cast<int>((i / columns) * (h + padding));
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        for (std::int64_t ch = 0; ch < c; ++ch) {
          const double v = values[static_cast<std::size_t>(((i * c + ch) * h + y) * w + x)];
          out.at(left + static_cast<int>(x), top + static_cast<int>(y))[ch] =
              static_cast<std::uint8_t>(std::clamp(std::lround((v - low) * scale), 0L, 255L));
        }
  }
}

// Viridis at five anchors, linearly interpolated: perceptually ordered, readable in grey.
void viridis(double t, std::uint8_t rgb[3]) {
  static const double anchors[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(static_cast<int>(t), 3);
  const double f = t - i;
  for (int k = 0; k < 3; ++k)
    rgb[k] = static_cast<std::uint8_t>(std::lround(anchors[i][k] * (1 - f) + anchors[i + 1][k] * f));
}

}  // namespace

namespace {

// The grid of image_grid, scaled from [low, high], or from the batch's range when low == high.
Image make_grid(const Tensor& images, std::int64_t columns, int padding, double low, double high) {
  const std::int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  columns = std::max<std::int64_t>(1, std::min(columns, n));
  const std::int64_t rows = (n + columns - 1) / columns;
  const std::vector<float> values = images.to_vector<float>();
  if (low == high && !values.empty()) {
    const auto [min, max] = std::minmax_element(values.begin(), values.end());
    low = *min;
    high = *max;
  }
  Image out(static_cast<int>(padding + columns * (w + padding)), static_cast<int>(padding + rows * (h + padding)),
            static_cast<int>(c), 0);
  paste(out, values, n, c, h, w, columns, padding, low, high);
  return out;
}

}  // namespace

Image image_from_tensor(const Tensor& image, double low, double high) {
  if (image.dim() != 3 || (image.size(0) != 1 && image.size(0) != 3))
    throw std::invalid_argument("image_from_tensor: expected (C, H, W) with C = 1 or 3, found " + image.sizes().str());
  return make_grid(image.reshape({1, image.size(0), image.size(1), image.size(2)}), 1, 0, low, high);
}

Image image_grid(const Tensor& images, std::int64_t columns, int padding) {
  if (images.dim() != 4 || (images.size(1) != 1 && images.size(1) != 3))
    throw std::invalid_argument("image_grid: expected (N, C, H, W) with C = 1 or 3, found " + images.sizes().str());
  return make_grid(images, columns, padding, 0, 0);
}

Image confusion_heatmap(const metrics::ConfusionMatrix& confusion) {
  const int k = static_cast<int>(confusion.num_classes());
  std::vector<std::string> names = confusion.class_names();
  for (int i = static_cast<int>(names.size()); i < k; ++i) names.push_back(std::to_string(i));
  constexpr int cell = 44, scale = 1, bar_width = 16;
  int label_width = 0;
  for (const auto& name : names) label_width = std::max(label_width, text_width(name, scale));
  const int left = label_width + 16, top = 40, grid = k * cell;
  Image out(left + grid + 24 + bar_width + 48, top + grid + 70, 3, 255);
  const std::uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255};

  for (int t = 0; t < k; ++t) {
    std::int64_t row_total = 0;
    for (int p = 0; p < k; ++p) row_total += confusion.count(t, p);
    for (int p = 0; p < k; ++p) {
      const std::int64_t n = confusion.count(t, p);
      const double share = row_total ? static_cast<double>(n) / static_cast<double>(row_total) : 0.0;
      std::uint8_t rgb[3];
      viridis(share, rgb);
      out.fill_rect(left + p * cell, top + t * cell, cell - 1, cell - 1, rgb);
      const std::string text = std::to_string(n);
      const bool dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 140;
      out.draw_text(left + p * cell + (cell - text_width(text)) / 2, top + t * cell + cell / 2 - 4, text,
                    dark ? white : black);
    }
    out.draw_text(left - 8 - text_width(names[t]), top + t * cell + cell / 2 - 4, names[t], black);
  }
  // Column names below the grid, alternating two lines so long names do not collide.
  for (int p = 0; p < k; ++p)
    out.draw_text(left + p * cell + (cell - text_width(names[p])) / 2, top + grid + 6 + (p % 2) * 12, names[p], black);
  out.draw_text(left + (grid - text_width("predicted class")) / 2, top + grid + 40, "predicted class", black);
  out.draw_text(left, 8, "rows: true class; colour: share of the row; numbers: counts", black);

  const int bar_left = left + grid + 24;
  for (int y = 0; y < grid; ++y) {
    std::uint8_t rgb[3];
    viridis(1.0 - static_cast<double>(y) / (grid - 1), rgb);
    out.fill_rect(bar_left, top + y, bar_width, 1, rgb);
  }
  for (int pct = 0; pct <= 100; pct += 25) {
    const int y = top + static_cast<int>(std::lround((1.0 - pct / 100.0) * (grid - 1)));
    out.fill_rect(bar_left + bar_width, y, 4, 1, black);
    out.draw_text(bar_left + bar_width + 6, y - 3, fmt::format("{}%", pct), black);
  }
  return out;
}

}  // namespace loom::experiments
