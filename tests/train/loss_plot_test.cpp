#include "train/loss_plot.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "serialization/atomic_file.hpp"

using namespace strata;

namespace {

TrainResult history(const std::vector<double>& losses, const std::vector<double>& validation = {},
                    LossFunction loss = LossFunction::CrossEntropy) {
  TrainResult r;
  r.loss = loss;
  for (size_t i = 0; i < losses.size(); ++i) {
    RoundRecord rec;
    rec.round = static_cast<int>(i) + 1;
    rec.loss = losses[i];
    if (i < validation.size()) rec.validation_loss = validation[i];
    r.rounds.push_back(rec);
  }
  return r;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' ||
         c == '.';
}

// A structural XML check, enough to catch what a string-built document gets
// wrong: one root element, every tag closed in order, attributes quoted and
// not repeated, no raw '<' or stray '&' in text or attribute values. Returns
// an empty string when the document is well formed, else what is wrong.
std::string xml_problem(const std::string& doc, std::string* root = nullptr) {
  std::vector<std::string> open;
  int roots = 0;
  size_t i = 0;
  auto check_text = [&](size_t from, size_t to) -> std::string {
    for (size_t k = from; k < to; ++k) {
      if (doc[k] == '<') return "raw '<' at " + std::to_string(k);
      if (doc[k] == '&') {
        const size_t semi = doc.find(';', k);
        const std::string entity = doc.substr(k, semi == std::string::npos ? 1 : semi - k + 1);
        if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" &&
            entity != "&apos;")
          return "stray '&' at " + std::to_string(k);
      }
    }
    return {};
  };
  if (doc.rfind("<?xml", 0) == 0) i = doc.find("?>") + 2;
  while (i < doc.size()) {
    const size_t lt = doc.find('<', i);
    const size_t text_end = lt == std::string::npos ? doc.size() : lt;
    if (auto p = check_text(i, text_end); !p.empty()) return p;
    if (open.empty() && doc.find_first_not_of(" \n\r\t", i) < text_end)
      return "text outside the root element";
    if (lt == std::string::npos) break;
    if (doc.compare(lt, 4, "<!--") == 0) {
      i = doc.find("-->", lt) + 3;
      continue;
    }
    const size_t gt = doc.find('>', lt);
    if (gt == std::string::npos) return "unterminated tag";
    std::string tag = doc.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (!tag.empty() && tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (open.empty() || open.back() != name) return "</" + name + "> closes nothing open";
      open.pop_back();
      continue;
    }
    const bool self_closing = !tag.empty() && tag.back() == '/';
    if (self_closing) tag.pop_back();
    size_t k = 0;
    while (k < tag.size() && is_name_char(tag[k]))
      ++k;
    const std::string name = tag.substr(0, k);
    if (name.empty()) return "a tag without a name";
    if (open.empty()) {
      if (++roots > 1) return "more than one root element";
      if (root) *root = name;
    }
    std::vector<std::string> seen;
    while (true) {
      while (k < tag.size() && std::isspace(static_cast<unsigned char>(tag[k])))
        ++k;
      if (k == tag.size()) break;
      const size_t start = k;
      while (k < tag.size() && is_name_char(tag[k]))
        ++k;
      const std::string attribute = tag.substr(start, k - start);
      if (attribute.empty() || k + 1 >= tag.size() || tag[k] != '=' || tag[k + 1] != '"')
        return "<" + name + ">: malformed attribute at \"" + tag.substr(start) + "\"";
      for (const auto& a : seen)
        if (a == attribute) return "<" + name + ">: attribute " + attribute + " twice";
      seen.push_back(attribute);
      const size_t close = tag.find('"', k + 2);
      if (close == std::string::npos) return "<" + name + ">: unterminated attribute value";
      if (auto p = check_text(lt + 1 + k + 2, lt + 1 + close); !p.empty()) return p;
      k = close + 1;
    }
    if (!self_closing) open.push_back(name);
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  if (roots != 1) return "no root element";
  return {};
}

// The points of the polyline with the given id, or nullopt without one.
std::optional<std::vector<std::pair<double, double>>> polyline(const std::string& svg,
                                                               const std::string& id) {
  const size_t at = svg.find("<polyline id=\"" + id + "\"");
  if (at == std::string::npos) return std::nullopt;
  const size_t p = svg.find("points=\"", at) + 8;
  std::istringstream in(svg.substr(p, svg.find('"', p) - p));
  std::vector<std::pair<double, double>> points;
  std::string pair;
  while (in >> pair) {
    const size_t comma = pair.find(',');
    points.emplace_back(std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1)));
  }
  return points;
}

}  // namespace

TEST_CASE("xml_problem catches what it should (the checker itself can fail)") {
  CHECK(xml_problem("<svg><g></g></svg>").empty());
  CHECK(xml_problem("<?xml version=\"1.0\"?>\n<svg a=\"1\" b=\"x &amp; y\"><t>a</t></svg>\n")
            .empty());
  CHECK(!xml_problem("<svg><g></svg>").empty());
  CHECK(!xml_problem("<svg></svg><svg></svg>").empty());
  CHECK(!xml_problem("<svg a=1></svg>").empty());
  CHECK(!xml_problem("<svg a=\"1\" a=\"2\"></svg>").empty());
  CHECK(!xml_problem("<svg><t>a & b</t></svg>").empty());
  CHECK(!xml_problem("<svg><g>").empty());
}

TEST_CASE("loss plot: a well-formed SVG with one point per round in each series") {
  const TrainResult r = history({2.0, 1.2, 0.8, 0.6, 0.5, 0.45}, {2.1, 1.4, 1.0, 0.9, 0.85, 0.84});
  const std::string svg = loss_plot_svg(r);
  std::string root;
  CHECK(xml_problem(svg, &root) == "");
  CHECK(root == "svg");
  CHECK(svg.find("xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(svg.find("CrossEntropy loss per round") != std::string::npos);

  const auto train = polyline(svg, "training-loss");
  const auto valid = polyline(svg, "validation-loss");
  REQUIRE(train);
  REQUIRE(valid);
  CHECK(train->size() == 6);
  CHECK(valid->size() == 6);
  // Rounds go left to right, evenly; a smaller loss is lower (larger y).
  for (size_t i = 1; i < train->size(); ++i) {
    CHECK((*train)[i].first > (*train)[i - 1].first);
    CHECK((*train)[i].first - (*train)[i - 1].first ==
          doctest::Approx((*train)[1].first - (*train)[0].first).epsilon(1e-3));
    CHECK((*train)[i].second > (*train)[i - 1].second);
    CHECK((*valid)[i].first == (*train)[i].first);
  }
  // The validation loss is the higher one at every round: a smaller y.
  for (size_t i = 0; i < 6; ++i)
    CHECK((*valid)[i].second < (*train)[i].second);
  // The legend names both; the axis is linear (a span of less than 100x).
  CHECK(svg.find(">training</text>") != std::string::npos);
  CHECK(svg.find(">validation</text>") != std::string::npos);
  CHECK(svg.find("log scale") == std::string::npos);
  CHECK(svg.find("<circle") != std::string::npos);
}

TEST_CASE("loss plot: a log axis when the losses span more than two decades") {
  const TrainResult r = history({5.0, 0.5, 0.05, 0.004}, {}, LossFunction::MeanSquared);
  const std::string svg = loss_plot_svg(r);
  CHECK(xml_problem(svg) == "");
  CHECK(svg.find("loss (log scale)") != std::string::npos);
  CHECK(svg.find("MeanSquared loss per round") != std::string::npos);
  for (const char* tick :
       {">0.001</text>", ">0.01</text>", ">0.1</text>", ">1</text>", ">10</text>"})
    CHECK_MESSAGE(svg.find(tick) != std::string::npos, tick);
  const auto train = polyline(svg, "training-loss");
  REQUIRE(train);
  REQUIRE(train->size() == 4);
  // Each round divides the loss by 10 (the last by 12.5): equal steps on a
  // log axis, which a linear axis would not give.
  const double d1 = (*train)[1].second - (*train)[0].second;
  const double d2 = (*train)[2].second - (*train)[1].second;
  CHECK(d1 == doctest::Approx(d2).epsilon(1e-3));
  CHECK(d1 > 0);
  // Exactly two decades stay linear.
  CHECK(loss_plot_svg(history({1.0, 0.01})).find("log scale") == std::string::npos);
}

TEST_CASE("loss plot: without validation, one series and no validation legend") {
  const std::string svg = loss_plot_svg(history({1.0, 0.9, 0.85}));
  CHECK(xml_problem(svg) == "");
  CHECK(polyline(svg, "training-loss")->size() == 3);
  CHECK(!polyline(svg, "validation-loss"));
  CHECK(svg.find(">validation</text>") == std::string::npos);
}

TEST_CASE("loss plot: one round, a flat loss, many rounds, non-finite points") {
  std::string svg = loss_plot_svg(history({0.7}, {0.8}));
  CHECK(xml_problem(svg) == "");
  CHECK(polyline(svg, "training-loss")->size() == 1);
  CHECK(polyline(svg, "validation-loss")->size() == 1);
  CHECK(svg.find("<circle") != std::string::npos);  // a lone point still shows

  svg = loss_plot_svg(history({0.25, 0.25, 0.25}));
  CHECK(xml_problem(svg) == "");
  CHECK(svg.find("nan") == std::string::npos);

  std::vector<double> many;
  for (int i = 0; i < 300; ++i)
    many.push_back(1.0 / (1 + i));
  svg = loss_plot_svg(history(many));
  CHECK(xml_problem(svg) == "");
  CHECK(polyline(svg, "training-loss")->size() == 300);
  CHECK(svg.find("<circle") == std::string::npos);  // too many to mark

  svg = loss_plot_svg(history({1.0, 0.5, 0.4}, {0.9, INFINITY, 0.6}));
  CHECK(xml_problem(svg) == "");
  CHECK(polyline(svg, "validation-loss")->size() == 2);
  CHECK(svg.find("inf") == std::string::npos);
}

TEST_CASE("loss plot: no rounds is an error; writing names the file") {
  CHECK_THROWS_WITH_AS(loss_plot_svg(TrainResult{}), doctest::Contains("no rounds"), Error);
  const auto dir = std::filesystem::temp_directory_path() / "strata_loss_plot_test";
  std::filesystem::create_directories(dir);
  const auto file = dir / "loss.svg";
  write_loss_plot(file, history({1.0, 0.5}));
  CHECK(read_file(file) == loss_plot_svg(history({1.0, 0.5})));
  CHECK_THROWS_WITH_AS(write_loss_plot(dir / "missing" / "loss.svg", history({1.0})),
                       doctest::Contains("missing/loss.svg"), Error);
  std::filesystem::remove_all(dir);
}
