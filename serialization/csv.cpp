#include "serialization/csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <unordered_map>

#include "core/error.hpp"
#include "serialization/atomic_file.hpp"

namespace strata {

namespace {

// The cells of one line. Quoted cells with "" inside are unescaped into
// `storage`; all others are views into the text.
struct Row {
  std::vector<std::string_view> cells;
  std::deque<std::string> storage;
  size_t line = 0;
};

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back()))
    s.remove_suffix(1);
  return s;
}

std::string at_line(size_t line) {
  return "line " + std::to_string(line);
}

std::string at_cell(size_t line, size_t column, const std::vector<std::string>& names) {
  std::string s = at_line(line) + ", column " + std::to_string(column);
  if (column <= names.size() && !names[column - 1].empty()) s += " (" + names[column - 1] + ")";
  return s;
}

// A cell as it appears in a message: quoted, shortened.
std::string quoted(std::string_view cell) {
  std::string s(cell.substr(0, 40));
  if (cell.size() > 40) s += "...";
  return "\"" + s + "\"";
}

void split(std::string_view line, size_t line_number, Row& row) {
  row.cells.clear();
  row.storage.clear();
  row.line = line_number;
  size_t pos = 0;
  for (;;) {
    while (pos < line.size() && is_blank(line[pos]))
      ++pos;
    if (pos < line.size() && line[pos] == '"') {
      const size_t start = ++pos;
      bool escapes = false;
      for (;; ++pos) {
        if (pos >= line.size())
          throw Error(at_line(line_number) + ", column " + std::to_string(row.cells.size() + 1) +
                      ": unterminated quoted cell (a cell cannot span lines)");
        if (line[pos] != '"') continue;
        if (pos + 1 < line.size() && line[pos + 1] == '"') {
          escapes = true;
          ++pos;
          continue;
        }
        break;
      }
      std::string_view cell = line.substr(start, pos - start);
      ++pos;  // the closing quote
      while (pos < line.size() && is_blank(line[pos]))
        ++pos;
      if (pos < line.size() && line[pos] != ',')
        throw Error(at_line(line_number) + ", column " + std::to_string(row.cells.size() + 1) +
                    ": text after the closing quote of a quoted cell");
      if (escapes) {
        std::string& text = row.storage.emplace_back();
        for (size_t i = 0; i < cell.size(); ++i) {
          text += cell[i];
          if (cell[i] == '"') ++i;  // "" stands for one quote
        }
        cell = text;
      }
      row.cells.push_back(cell);
    } else {
      const size_t end = std::min(line.find(',', pos), line.size());
      row.cells.push_back(trim(line.substr(pos, end - pos)));
      pos = end;
    }
    if (pos >= line.size()) return;
    ++pos;  // the comma; a comma at the end leaves an empty last cell
  }
}

enum class Parsed { Number, NotANumber, Empty, NaN, Infinite, OutOfRange };

Parsed parse_number(std::string_view cell, float& out) {
  if (cell.empty()) return Parsed::Empty;
  std::string_view digits = cell;
  if (digits.front() == '+') digits.remove_prefix(1);  // from_chars takes no '+'
  const char* end = digits.data() + digits.size();
  double value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (ec == std::errc::result_out_of_range) {
    // Beyond double's range; long double tells a tiny number (which rounds
    // to zero in float32, like any tiny number) from a huge one.
    long double wide = 0;
    auto [wide_ptr, wide_ec] = std::from_chars(digits.data(), end, wide);
    if (wide_ec != std::errc() || wide_ptr != end || std::fabs(wide) >= 1)
      return Parsed::OutOfRange;
    out = std::signbit(wide) ? -0.0f : 0.0f;
    return Parsed::Number;
  }
  if (ec != std::errc() || ptr != end || (digits.size() < cell.size() && digits.front() == '-'))
    return Parsed::NotANumber;
  if (std::isnan(value)) return Parsed::NaN;
  if (std::isinf(value)) return Parsed::Infinite;
  out = static_cast<float>(value);
  if (std::isinf(out)) return Parsed::OutOfRange;
  return Parsed::Number;
}

using LabelIndex = std::unordered_map<std::string_view, float>;

// A header row has no cell that is a number (nor, in the last column, a
// class label): a row of numbers with one typo is data, and its error says
// where the typo is.
bool looks_like_header(const Row& row, const LabelIndex& labels) {
  float ignored = 0;
  for (size_t c = 0; c < row.cells.size(); ++c) {
    if (c + 1 == row.cells.size() && labels.count(row.cells[c])) return false;
    const Parsed p = parse_number(row.cells[c], ignored);
    if (p != Parsed::NotANumber && p != Parsed::Empty) return false;
  }
  return true;
}

// "cat, dog, bird", or the first few of many.
std::string some_labels(const std::vector<std::string>& labels) {
  constexpr size_t kShown = 10;
  std::string s;
  for (size_t i = 0; i < labels.size() && i < kShown; ++i)
    s += (i ? ", " : "") + labels[i];
  if (labels.size() > kShown) s += ", ... (" + std::to_string(labels.size()) + " in all)";
  return s;
}

}  // namespace

CsvDataset parse_csv_dataset(std::string_view text, const std::vector<std::string>& class_labels,
                             CsvHeader header) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // UTF-8 byte-order mark
  LabelIndex label_index;
  for (size_t i = 0; i < class_labels.size(); ++i)
    label_index.emplace(class_labels[i], static_cast<float>(i));

  CsvDataset result;
  std::vector<float> features, targets;
  Row row;
  size_t columns = 0;
  size_t first_line = 0;
  size_t line_number = 0;

  for (size_t pos = 0; pos < text.size();) {
    const size_t newline = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, newline - pos);
    pos = std::min(newline + 1, text.size());  // the last line may have no newline
    ++line_number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (trim(line).empty()) continue;
    split(line, line_number, row);

    if (columns == 0) {
      columns = row.cells.size();
      first_line = line_number;
      if (columns < 2)
        throw Error(at_line(line_number) +
                    ": 1 column, but a dataset needs at least one feature column and the target "
                    "(the last column)");
      // Room for every row at once, judging by the number of lines left and
      // by how many rows of this many cells the text can hold (each cell a
      // character and a comma at least), so that hostile text with many
      // columns and many blank lines cannot ask for a huge allocation.
      const size_t rest = text.size() - pos;
      const size_t lines =
          std::min(static_cast<size_t>(std::count(text.begin() + pos, text.end(), '\n')),
                   rest / (2 * columns - 1)) +
          1;
      features.reserve(lines * (columns - 1));
      targets.reserve(lines);
      if (header == CsvHeader::Present ||
          (header == CsvHeader::Automatic && looks_like_header(row, label_index))) {
        for (std::string_view cell : row.cells)
          result.column_names.emplace_back(cell);
        result.header_line = line_number;
        continue;
      }
    }

    if (row.cells.size() != columns)
      throw Error(at_line(line_number) + ": " + std::to_string(row.cells.size()) +
                  (row.cells.size() == 1 ? " column" : " columns") + ", but line " +
                  std::to_string(first_line) + " has " + std::to_string(columns));
    for (size_t c = 0; c < columns; ++c) {
      float value = 0;
      const bool target = c + 1 == columns;
      if (target && !label_index.empty()) {
        if (auto it = label_index.find(row.cells[c]); it != label_index.end()) {
          targets.push_back(it->second);
          continue;
        }
      }
      const Parsed parsed = parse_number(row.cells[c], value);
      if (parsed != Parsed::Number) {
        // The first row, taken as data for its numbers: it may be a header.
        const std::string hint = line_number == first_line && header == CsvHeader::Automatic &&
                                         parsed == Parsed::NotANumber
                                     ? " (the first row has numbers, so it is data; if it is a "
                                       "header, say so with --header)"
                                     : "";
        const std::string where = at_cell(line_number, c + 1, result.column_names);
        if (target && parsed == Parsed::NotANumber)
          throw Error(where + ": " +
                      (class_labels.empty()
                           ? quoted(row.cells[c]) +
                                 " is not a number (targets given as class labels need a net "
                                 "with ClassLabels)"
                           : "unknown class label " + quoted(row.cells[c]) +
                                 " (ClassLabels: " + some_labels(class_labels) + ")") +
                      hint);
        switch (parsed) {
          case Parsed::Empty:
            throw Error(where + ": empty cell");
          case Parsed::NaN:
            throw Error(where + ": NaN is not allowed");
          case Parsed::Infinite:
            throw Error(where + ": infinity is not allowed");
          case Parsed::OutOfRange:
            throw Error(where + ": " + quoted(row.cells[c]) + " is outside float32's range");
          default:
            throw Error(where + ": " + quoted(row.cells[c]) + " is not a number" + hint);
        }
      }
      (target ? targets : features).push_back(value);
    }
  }

  if (columns == 0) throw Error("empty file: no rows");
  if (targets.empty())
    throw Error("no data rows after the header (line " + std::to_string(first_line) + ")");
  const auto n = static_cast<int64_t>(targets.size());
  result.inputs = Tensor({n, static_cast<int64_t>(columns - 1)}, std::move(features));
  result.targets = Tensor({n}, std::move(targets));
  return result;
}

CsvDataset read_csv_dataset(const std::filesystem::path& path,
                            const std::vector<std::string>& class_labels, CsvHeader header) {
  const std::string text = read_file(path);
  try {
    return parse_csv_dataset(text, class_labels, header);
  } catch (Error& e) {
    e.add_context(path.string());
    throw;
  }
}

}  // namespace strata
