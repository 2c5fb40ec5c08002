#include "train/loss_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "core/error.hpp"
#include "serialization/atomic_file.hpp"

namespace strata {

namespace {

// The canvas and the plot area inside it, in SVG user units (pixels).
constexpr double kWidth = 640, kHeight = 400;
constexpr double kLeft = 76, kRight = kWidth - 24, kTop = 52, kBottom = kHeight - 56;
// Markers on the points while they are few enough to tell apart.
constexpr size_t kMaxMarkers = 60;

const char* const kTrainingColor = "#1f77b4";
const char* const kValidationColor = "#ff7f0e";

std::string fixed(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", v);
  return buffer;
}

// A tick label: at most 4 significant digits, so that 0.1 + 0.2 reads "0.3".
std::string label(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  std::string s = buffer;
  return s == "-0" ? "0" : s;
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// 1, 2 or 5 times a power of ten, the smallest such at least `raw` (> 0).
double nice_step(double raw) {
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

struct Tick {
  double value;
  bool labelled;
};

// One axis: a data range mapped linearly (or, for a log axis, its log10
// mapped linearly) onto a pixel range.
struct Axis {
  double low, high;  // in data units (log10 of them on a log axis)
  bool log = false;
  std::vector<Tick> ticks;  // in data units

  double to_pixel(double v, double pixel_low, double pixel_high) const {
    const double t = ((log ? std::log10(v) : v) - low) / (high - low);
    return pixel_low + t * (pixel_high - pixel_low);
  }
};

Axis round_axis(double first, double last) {
  Axis a;
  a.low = first;
  a.high = last;
  if (first == last) {  // one round: center it
    a.low -= 0.5;
    a.high += 0.5;
  }
  const double step = std::max(1.0, nice_step((a.high - a.low) / 8));
  for (double t = std::ceil(a.low / step) * step; t <= a.high + 1e-9; t += step)
    a.ticks.push_back({t, true});
  return a;
}

Axis loss_axis(double lo, double hi) {
  Axis a;
  if (lo > 0 && hi / lo > 100) {
    a.log = true;
    a.low = std::floor(std::log10(lo));
    a.high = std::ceil(std::log10(hi));
    const int decades = static_cast<int>(a.high - a.low);
    const int every = (decades + 7) / 8;  // at most about 8 labelled ticks
    for (int d = 0; d <= decades; ++d) {
      const double decade = std::pow(10.0, a.low + d);
      if (d % every == 0) a.ticks.push_back({decade, true});
      if (decades <= 4 && d < decades)  // unlabelled 2..9 between the decades
        for (int m = 2; m <= 9; ++m)
          a.ticks.push_back({m * decade, false});
    }
    return a;
  }
  if (hi - lo <= std::abs(hi) * 1e-12) {  // a flat line: give it some room
    const double pad = hi != 0 ? std::abs(hi) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step((hi - lo) / 5);
  a.low = std::floor(lo / step) * step;
  a.high = std::ceil(hi / step) * step;
  const auto count = static_cast<int>(std::lround((a.high - a.low) / step));
  for (int i = 0; i <= count; ++i)
    a.ticks.push_back({a.low + i * step, true});
  return a;
}

struct Series {
  const char* id;
  const char* name;
  const char* color;
  const char* dash;                               // stroke-dasharray, or empty
  std::vector<std::pair<double, double>> points;  // (round, loss), finite only
};

}  // namespace

std::string loss_plot_svg(const TrainResult& result) {
  if (result.rounds.empty()) throw Error("loss plot: the training has no rounds to plot");

  Series training{"training-loss", "training", kTrainingColor, "", {}};
  Series validation{"validation-loss", "validation", kValidationColor, "6 3", {}};
  bool has_validation = false;
  for (const auto& r : result.rounds) {
    if (std::isfinite(r.loss)) training.points.emplace_back(r.round, r.loss);
    if (r.validation_loss) {
      has_validation = true;
      if (std::isfinite(*r.validation_loss))
        validation.points.emplace_back(r.round, *r.validation_loss);
    }
  }
  std::vector<const Series*> series{&training};
  if (has_validation) series.push_back(&validation);

  double lo = INFINITY, hi = -INFINITY;
  for (const Series* s : series)
    for (const auto& [x, y] : s->points) {
      lo = std::min(lo, y);
      hi = std::max(hi, y);
    }
  if (!(lo <= hi)) lo = hi = 0;  // no finite loss at all: empty axes
  const Axis xa = round_axis(result.rounds.front().round, result.rounds.back().round);
  const Axis ya = loss_axis(lo, hi);
  auto px = [&](double v) { return xa.to_pixel(v, kLeft, kRight); };
  auto py = [&](double v) { return ya.to_pixel(v, kBottom, kTop); };

  const std::string loss_name(loss_function_name(result.loss));
  std::string s;
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + label(kWidth) +
       "\" height=\"" + label(kHeight) + "\" viewBox=\"0 0 " + label(kWidth) + " " +
       label(kHeight) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<title>" + escape(loss_name) + " loss per round</title>\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + fixed(kLeft) + "\" y=\"28\" font-size=\"15\">" + escape(loss_name) +
       " loss per round</text>\n";

  // Grid lines, then the frame and tick marks, then the labels.
  s += "<g id=\"grid\" stroke-width=\"1\">\n";
  for (const Tick& t : xa.ticks)
    s += "<line x1=\"" + fixed(px(t.value)) + "\" y1=\"" + fixed(kTop) + "\" x2=\"" +
         fixed(px(t.value)) + "\" y2=\"" + fixed(kBottom) + "\" stroke=\"#e6e6e6\"/>\n";
  for (const Tick& t : ya.ticks)
    s += "<line x1=\"" + fixed(kLeft) + "\" y1=\"" + fixed(py(t.value)) + "\" x2=\"" +
         fixed(kRight) + "\" y2=\"" + fixed(py(t.value)) + "\" stroke=\"" +
         (t.labelled ? "#e6e6e6" : "#f3f3f3") + "\"/>\n";
  s += "</g>\n";
  s += "<g id=\"axes\" stroke=\"#333333\" stroke-width=\"1\" fill=\"none\">\n";
  s += "<rect x=\"" + fixed(kLeft) + "\" y=\"" + fixed(kTop) + "\" width=\"" +
       fixed(kRight - kLeft) + "\" height=\"" + fixed(kBottom - kTop) + "\"/>\n";
  for (const Tick& t : xa.ticks)
    s += "<line x1=\"" + fixed(px(t.value)) + "\" y1=\"" + fixed(kBottom) + "\" x2=\"" +
         fixed(px(t.value)) + "\" y2=\"" + fixed(kBottom + 5) + "\"/>\n";
  for (const Tick& t : ya.ticks)
    s += "<line x1=\"" + fixed(kLeft - (t.labelled ? 5 : 3)) + "\" y1=\"" + fixed(py(t.value)) +
         "\" x2=\"" + fixed(kLeft) + "\" y2=\"" + fixed(py(t.value)) + "\"/>\n";
  s += "</g>\n";
  s += "<g id=\"tick-labels\" fill=\"#333333\">\n";
  for (const Tick& t : xa.ticks)
    s += "<text x=\"" + fixed(px(t.value)) + "\" y=\"" + fixed(kBottom + 19) +
         "\" text-anchor=\"middle\">" + label(t.value) + "</text>\n";
  for (const Tick& t : ya.ticks)
    if (t.labelled)
      s += "<text x=\"" + fixed(kLeft - 8) + "\" y=\"" + fixed(py(t.value) + 4) +
           "\" text-anchor=\"end\">" + label(t.value) + "</text>\n";
  s += "</g>\n";
  s += "<text x=\"" + fixed((kLeft + kRight) / 2) + "\" y=\"" + fixed(kHeight - 14) +
       "\" text-anchor=\"middle\">round</text>\n";
  const std::string y_title = ya.log ? "loss (log scale)" : "loss";
  s += "<text transform=\"translate(18 " + fixed((kTop + kBottom) / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + y_title + "</text>\n";

  // The series, each a polyline with markers while the points are few.
  for (const Series* ser : series) {
    std::string points;
    for (const auto& [x, y] : ser->points) {
      if (!points.empty()) points += ' ';
      points += fixed(px(x));
      points += ',';
      points += fixed(py(y));
    }
    s += "<polyline id=\"" + std::string(ser->id) + "\" fill=\"none\" stroke=\"" + ser->color +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\"" +
         (*ser->dash ? std::string(" stroke-dasharray=\"") + ser->dash + "\"" : "") + " points=\"" +
         points + "\"/>\n";
    if (ser->points.size() <= kMaxMarkers) {
      s += "<g fill=\"" + std::string(ser->color) + "\">\n";
      for (const auto& [x, y] : ser->points)
        s += "<circle cx=\"" + fixed(px(x)) + "\" cy=\"" + fixed(py(y)) + "\" r=\"3\"/>\n";
      s += "</g>\n";
    }
  }

  // The legend, in the band above the plot, right-aligned.
  s += "<g id=\"legend\">\n";
  double x = kRight;
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    const Series& ser = **it;
    const double text_width = 7.0 * static_cast<double>(std::string(ser.name).size());
    x -= text_width;
    s += "<text x=\"" + fixed(x) + "\" y=\"32\">" + escape(ser.name) + "</text>\n";
    s += "<line x1=\"" + fixed(x - 30) + "\" y1=\"28\" x2=\"" + fixed(x - 6) +
         "\" y2=\"28\" stroke=\"" + ser.color + "\" stroke-width=\"2\"" +
         (*ser.dash ? std::string(" stroke-dasharray=\"") + ser.dash + "\"" : "") + "/>\n";
    x -= 30 + 18;
  }
  s += "</g>\n";
  s += "</svg>\n";
  return s;
}

void write_loss_plot(const std::filesystem::path& path, const TrainResult& result) {
  write_file_atomically(path, loss_plot_svg(result));
}

}  // namespace strata
