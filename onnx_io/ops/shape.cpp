// Constants and shapes: Constant, Shape and the ops PyTorch computes shapes
// with (folded at import), and the layers that reshape a computed tensor
// (ReshapeLayer, FlattenLayer, CatenateLayer). Identity and Dropout vanish.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "core/error.hpp"
#include "layers/catenate.hpp"
#include "layers/flatten.hpp"
#include "layers/padding.hpp"
#include "layers/reshape.hpp"
#include "onnx_io/converter.hpp"
#include "onnx_io/tensor_proto.hpp"

namespace strata::onnx_io {
namespace {

// Element strides of row-major dims.
std::vector<int64_t> strides_of(const Dims& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (size_t k = dims.size(); k-- > 1;)
    s[k - 1] = s[k] * dims[k];
  return s;
}

// A copy of c's elements at `index` (flat positions), with their tags.
Constant pick(const Constant& c, Dims dims, const std::vector<int64_t>& index) {
  Constant r;
  r.type = c.type;
  r.dims = std::move(dims);
  for (int64_t i : index) {
    r.values.push_back(c.values[static_cast<size_t>(i)]);
    if (!c.tags.empty()) r.tags.push_back(c.tags[static_cast<size_t>(i)]);
  }
  return r;
}

// Every flat index of `dims` as a multi-index, calling f(multi, flat).
template <class F>
void for_each_index(const Dims& dims, F f) {
  const int64_t n = checked_num_elements(dims, kMaxConstantElements);
  std::vector<int64_t> idx(dims.size(), 0);
  for (int64_t e = 0; e < n; ++e) {
    f(idx, e);
    for (size_t k = dims.size(); k-- > 0;) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
}

void constant_node(Context& ctx) {
  if (const auto* a = ctx.attr("value"))
    return ctx.set_output(0, decode_tensor(a->t(), {}, 0, "attribute value"));
  if (const auto* a = ctx.attr("value_float")) return ctx.set_output(0, Constant::scalar(a->f()));
  if (const auto* a = ctx.attr("value_int"))
    return ctx.set_output(0, Constant::scalar(static_cast<double>(a->i()), Constant::Type::Int));
  if (const auto v = ctx.attr_floats("value_floats"))
    return ctx.set_output(
        0, Constant::of({static_cast<int64_t>(v->size())}, *v, Constant::Type::Float));
  if (const auto v = ctx.attr_ints("value_ints"))
    return ctx.set_output(
        0, Constant::of({static_cast<int64_t>(v->size())},
                        std::vector<double>(v->begin(), v->end()), Constant::Type::Int));
  ctx.fail("only value, value_float(s) and value_int(s) are supported");
}

// Shape of a computed tensor: dimension 0 is the batch, unknown at import.
void shape(Context& ctx) {
  const Value& v = ctx.input(0);
  Constant c;
  c.type = Constant::Type::Int;
  if (const auto* k = std::get_if<Constant>(&v)) {
    for (int64_t d : k->dims)
      c.values.push_back(static_cast<double>(d));
  } else {
    const auto& s = std::get<Computed>(v).shape;
    c.values.push_back(0);
    c.tags.push_back(Constant::Batch);
    for (size_t i = 0; i < s.rank(); ++i) {
      c.values.push_back(static_cast<double>(s[i]));
      c.tags.push_back(s.dim_known(i) ? Constant::Known : Constant::Unknown);
    }
  }
  const int64_t r = static_cast<int64_t>(c.values.size());
  int64_t start = ctx.attr_int("start", 0), end = ctx.attr_int("end", r);
  start = std::clamp(start < 0 ? start + r : start, int64_t{0}, r);
  end = std::clamp(end < 0 ? end + r : end, int64_t{0}, r);
  std::vector<int64_t> idx;
  for (int64_t i = start; i < end; ++i)
    idx.push_back(i);
  ctx.set_output(0, pick(c, {static_cast<int64_t>(idx.size())}, idx));
}

void gather(Context& ctx) {
  const Constant& data = ctx.constant(0, "data");
  const Constant& indices = ctx.constant(1, "indices");
  const int64_t rank = static_cast<int64_t>(data.dims.size());
  if (rank == 0) ctx.fail("data is a scalar");
  const int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), rank, "axis");
  const auto ind = to_ints(ctx, indices, "indices");
  const int64_t n = data.dims[static_cast<size_t>(axis)];
  Dims out(data.dims.begin(), data.dims.begin() + axis);
  out.insert(out.end(), indices.dims.begin(), indices.dims.end());
  out.insert(out.end(), data.dims.begin() + axis + 1, data.dims.end());
  const auto ds = strides_of(data.dims);
  const int64_t inner = ds[static_cast<size_t>(axis)];
  const int64_t outer = checked_num_elements(Dims(data.dims.begin(), data.dims.begin() + axis));
  std::vector<int64_t> flat;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : ind) {
      if (i < -n || i >= n) ctx.fail("index " + std::to_string(i) + " is out of range");
      const int64_t j = i < 0 ? i + n : i;
      for (int64_t k = 0; k < inner; ++k)
        flat.push_back(o * n * inner + j * inner + k);
    }
  ctx.set_output(0, pick(data, out, flat));
}

// The axes of Unsqueeze/Squeeze/ReduceX: an attribute before opset 13, an input since.
std::optional<std::vector<int64_t>> axes_of(Context& ctx) {
  if (ctx.opset() < 13) return ctx.attr_ints("axes");
  if (!ctx.has_input(1)) return std::nullopt;
  return to_ints(ctx, ctx.constant(1, "axes"), "axes");
}

// A computed tensor reshaped to `dims` per example (no layer when unchanged).
void reshape_computed(Context& ctx, const Computed& x, const Dims& dims) {
  if (x.shape.fully_known() && x.shape.dims() == dims) return ctx.set_output(0, x);
  if (dims.size() == 1 && x.shape.fully_known() && dims[0] == x.shape.num_elements())
    return ctx.set_output(0, ctx.add(FlattenLayer(), {x}));
  ctx.set_output(0, ctx.add(ReshapeLayer(dims), {x}));
}

void set_reshaped(Context& ctx, const Value& in, const Dims& onnx_dims) {
  if (const auto* c = std::get_if<Constant>(&in)) {
    Constant r = *c;
    r.dims = onnx_dims;
    return ctx.set_output(0, r);
  }
  reshape_computed(ctx, std::get<Computed>(in), Dims(onnx_dims.begin() + 1, onnx_dims.end()));
}

// The ONNX dims of a value, the batch as 0 (only for a Computed one).
Dims onnx_dims(Context& ctx, const Value& v, std::string_view what) {
  if (const auto* c = std::get_if<Constant>(&v)) return c->dims;
  Dims d{0};
  const Dims e = known_dims(ctx, std::get<Computed>(v), what);
  d.insert(d.end(), e.begin(), e.end());
  return d;
}

void unsqueeze(Context& ctx) {
  const Value& in = ctx.input(0);
  const auto axes = axes_of(ctx);
  if (!axes) ctx.fail("axes are required");
  Dims dims = onnx_dims(ctx, in, "Unsqueeze");
  const int64_t out_rank = static_cast<int64_t>(dims.size() + axes->size());
  std::vector<int64_t> norm;
  for (int64_t a : *axes)
    norm.push_back(normalize_axis(ctx, a, out_rank, "axis"));
  std::sort(norm.begin(), norm.end());
  if (std::adjacent_find(norm.begin(), norm.end()) != norm.end()) ctx.fail("axes repeat");
  for (int64_t a : norm) {
    if (a == 0 && std::holds_alternative<Computed>(in))
      ctx.fail("axis 0 would move the batch dimension (supported: axes after it)");
    dims.insert(dims.begin() + a, 1);
  }
  set_reshaped(ctx, in, dims);
}

void squeeze(Context& ctx) {
  const Value& in = ctx.input(0);
  const auto axes = axes_of(ctx);
  const Dims dims = onnx_dims(ctx, in, "Squeeze");
  const int64_t rank = static_cast<int64_t>(dims.size());
  std::vector<bool> drop(dims.size(), false);
  if (axes) {
    for (int64_t a : *axes) {
      const int64_t k = normalize_axis(ctx, a, rank, "axis");
      if (k == 0 && std::holds_alternative<Computed>(in))
        ctx.fail("axis 0 is the batch dimension (supported: axes after it)");
      if (dims[static_cast<size_t>(k)] != 1) ctx.fail("axis " + std::to_string(a) + " is not 1");
      drop[static_cast<size_t>(k)] = true;
    }
  } else {
    for (size_t k = std::holds_alternative<Computed>(in) ? 1 : 0; k < dims.size(); ++k)
      drop[k] = dims[k] == 1;
  }
  Dims out;
  for (size_t k = 0; k < dims.size(); ++k)
    if (!drop[k]) out.push_back(dims[k]);
  set_reshaped(ctx, in, out);
}

// Concat(Slice(x, n − b, n), x, Slice(x, 0, a)) along one axis after the
// batch (either Slice may be left out): x padded periodically by b before and
// a after (PyTorch's circular padding, strata's Periodic), a PaddingLayer.
// False when no input is a Slice of a computed tensor; refuses another use
// of one.
bool periodic_padding(Context& ctx, int64_t axis) {
  std::vector<const Computed*> in;
  bool slices = false;
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    in.push_back(&ctx.computed(i));
    slices = slices || ctx.slice_of(*in.back());
  }
  if (!slices) return false;
  const char* pattern =
      "a Slice of a computed tensor is supported only as periodic padding: Concat of the "
      "input's last b elements, the input and its first a elements, along the sliced axis";
  // The input itself: the one input that is not a Slice.
  const Computed* x = nullptr;
  size_t at = 0;
  for (size_t i = 0; i < in.size(); ++i)
    if (!ctx.slice_of(*in[i])) {
      if (x) ctx.fail(pattern);
      x = in[i];
      at = i;
    }
  if (!x || at > 1 || in.size() - at > 2) ctx.fail(pattern);
  const int64_t n = x->shape.dims().at(static_cast<size_t>(axis - 1));
  auto same = [&](const Computed& a) { return a.layer == x->layer && a.port == x->port; };
  int64_t before = 0, after = 0;
  if (at == 1) {
    const SliceOf* tail = ctx.slice_of(*in[0]);
    if (!same(tail->x) || tail->axis != axis || tail->end != n || tail->begin >= n)
      ctx.fail(pattern);
    before = n - tail->begin;
  }
  if (at + 1 < in.size()) {
    const SliceOf* head = ctx.slice_of(*in[at + 1]);
    if (!same(head->x) || head->axis != axis || head->begin != 0 || head->end <= 0)
      ctx.fail(pattern);
    after = head->end;
  }
  PaddingPairs pairs(x->shape.rank(), {0, 0});
  pairs[static_cast<size_t>(axis - 1)] = {before, after};
  ctx.set_output(0, ctx.add(PaddingLayer(pairs).padding(PaddingMode::Periodic), {*x}));
  return true;
}

void concat(Context& ctx) {
  bool any_constant = false, any_computed = false;
  for (size_t i = 0; i < ctx.input_count(); ++i)
    (ctx.is_constant(i) ? any_constant : any_computed) = true;
  const int64_t rank = onnx_rank(ctx.input(0));
  // Before opset 4 the axis was optional, 1 by default.
  const int64_t axis =
      normalize_axis(ctx, ctx.attr_int("axis", ctx.opset() < 4 ? 1 : 0), rank, "axis");
  if (any_computed) {
    if (any_constant) ctx.fail("joining constants and computed tensors is not supported");
    if (periodic_padding(ctx, axis)) return;
    if (axis != 1)
      ctx.fail("axis " + std::to_string(axis) + " is not supported (supported: 1, the channels)");
    std::vector<Computed> in;
    for (size_t i = 0; i < ctx.input_count(); ++i)
      in.push_back(ctx.computed(i));
    if (in.size() == 1) return ctx.set_output(0, in[0]);
    return ctx.set_output(0, ctx.add(CatenateLayer(), in));
  }
  std::vector<const Constant*> in;
  for (size_t i = 0; i < ctx.input_count(); ++i)
    in.push_back(&ctx.constant(i, "input"));
  Dims out = in[0]->dims;
  out[static_cast<size_t>(axis)] = 0;
  for (const auto* c : in) {
    if (c->dims.size() != out.size()) ctx.fail("inputs of different ranks");
    for (size_t k = 0; k < out.size(); ++k)
      if (static_cast<int64_t>(k) != axis && c->dims[k] != out[k])
        ctx.fail("inputs of shapes " + to_string(in[0]->dims) + " and " + to_string(c->dims));
    out[static_cast<size_t>(axis)] += c->dims[static_cast<size_t>(axis)];
  }
  Constant r;
  r.type = in[0]->type;
  r.dims = out;
  bool tags = false;
  for (const auto* c : in)
    tags = tags || !c->tags.empty();
  const int64_t outer = checked_num_elements(Dims(out.begin(), out.begin() + axis));
  for (int64_t o = 0; o < outer; ++o)
    for (const auto* c : in) {
      const int64_t block = checked_num_elements(Dims(c->dims.begin() + axis, c->dims.end()));
      for (int64_t k = 0; k < block; ++k) {
        const auto i = static_cast<size_t>(o * block + k);
        r.values.push_back(c->values[i]);
        if (tags) r.tags.push_back(c->tag(i));
      }
    }
  ctx.set_output(0, r);
}

struct SliceArgs {
  std::vector<int64_t> starts, ends, axes, steps;
};

// Slice's starts, ends, axes and steps: attributes before opset 10, inputs
// since; axes 0, 1, … and steps 1 by default.
SliceArgs slice_args(Context& ctx) {
  SliceArgs a;
  if (ctx.opset() < 10) {
    a.starts = ctx.attr_ints("starts").value_or(std::vector<int64_t>{});
    a.ends = ctx.attr_ints("ends").value_or(std::vector<int64_t>{});
    a.axes = ctx.attr_ints("axes").value_or(std::vector<int64_t>{});
  } else {
    a.starts = to_ints(ctx, ctx.constant(1, "starts"), "starts");
    a.ends = to_ints(ctx, ctx.constant(2, "ends"), "ends");
    if (ctx.has_input(3)) a.axes = to_ints(ctx, ctx.constant(3, "axes"), "axes");
    if (ctx.has_input(4)) a.steps = to_ints(ctx, ctx.constant(4, "steps"), "steps");
  }
  if (a.axes.empty())
    for (size_t i = 0; i < a.starts.size(); ++i)
      a.axes.push_back(static_cast<int64_t>(i));
  if (a.steps.empty()) a.steps.assign(a.starts.size(), 1);
  if (a.ends.size() != a.starts.size() || a.axes.size() != a.starts.size() ||
      a.steps.size() != a.starts.size())
    ctx.fail("starts, ends, axes and steps differ in length");
  return a;
}

// A bound of Slice along a dimension of n elements, for step 1: negative
// counts from the end, then clamped to [0, n].
int64_t slice_bound(int64_t v, int64_t n) {
  if (v < 0) v += n;
  return std::clamp<int64_t>(v, 0, n);
}

// Slice of a computed tensor: one axis after the batch, step 1, the size
// along it known. Kept as a value only a Concat making periodic padding of it
// reads (see concat).
void slice_computed(Context& ctx) {
  const Computed& x = ctx.computed(0);
  const SliceArgs a = slice_args(ctx);
  const char* supported =
      " (supported for a computed tensor: one axis after the batch, step 1, as periodic "
      "padding)";
  if (a.starts.size() != 1)
    ctx.fail("a Slice of a computed tensor over " + std::to_string(a.starts.size()) +
             " axes is not supported" + supported);
  if (a.steps[0] != 1)
    ctx.fail("a Slice of a computed tensor with step " + std::to_string(a.steps[0]) +
             " is not supported" + supported);
  const int64_t rank = onnx_rank(Value(x));
  const int64_t axis = normalize_axis(ctx, a.axes[0], rank, "axis");
  if (axis == 0) ctx.fail(std::string("axis 0 is the batch dimension") + supported);
  const Dims dims = known_dims(ctx, x, "a Slice of a computed tensor");
  const int64_t n = dims[static_cast<size_t>(axis - 1)];
  const int64_t begin = slice_bound(a.starts[0], n), end = slice_bound(a.ends[0], n);
  Dims out = dims;
  out[static_cast<size_t>(axis - 1)] = std::max<int64_t>(0, end - begin);
  ctx.set_output(0, ctx.add_slice({x, axis, begin, end}, Shape(out)));
}

void slice(Context& ctx) {
  if (!ctx.is_constant(0)) return slice_computed(ctx);
  const Constant& data = ctx.constant(0, "data");
  const int64_t rank = static_cast<int64_t>(data.dims.size());
  const SliceArgs args = slice_args(ctx);
  const auto& [starts, ends, axes, steps] = args;
  std::vector<int64_t> begin(static_cast<size_t>(rank), 0), step(static_cast<size_t>(rank), 1);
  Dims out = data.dims;
  for (size_t i = 0; i < starts.size(); ++i) {
    const auto a = static_cast<size_t>(normalize_axis(ctx, axes[i], rank, "axis"));
    const int64_t n = data.dims[a], s = steps[i];
    if (s == 0) ctx.fail("a step is 0");
    auto clampv = [&](int64_t v, int64_t lo, int64_t hi) {
      if (v < 0) v += n;
      return std::clamp(v, lo, hi);
    };
    const int64_t b = s > 0 ? clampv(starts[i], 0, n) : clampv(starts[i], -1, n - 1);
    const int64_t e = s > 0 ? clampv(ends[i], 0, n) : clampv(ends[i], -1, n - 1);
    const int64_t count = s > 0 ? std::max<int64_t>(0, (e - b + s - 1) / s)
                                : std::max<int64_t>(0, (b - e - s - 1) / -s);
    begin[a] = b;
    step[a] = s;
    out[a] = count;
  }
  const auto ds = strides_of(data.dims);
  std::vector<int64_t> flat;
  for_each_index(out, [&](const std::vector<int64_t>& idx, int64_t) {
    int64_t off = 0;
    for (size_t k = 0; k < idx.size(); ++k)
      off += (begin[k] + idx[k] * step[k]) * ds[k];
    flat.push_back(off);
  });
  ctx.set_output(0, pick(data, out, flat));
}

void cast(Context& ctx) {
  const int64_t to = ctx.attr_int("to", 0);
  using T = onnx::TensorProto;
  const bool to_float = to == T::FLOAT || to == T::DOUBLE || to == T::FLOAT16;
  const bool to_int =
      to == T::INT64 || to == T::INT32 || to == T::INT16 || to == T::INT8 || to == T::UINT8;
  if (!to_float && !to_int && to != T::BOOL)
    ctx.fail("to " + std::to_string(to) + " is not supported (supported: float, int, bool types)");
  if (!ctx.is_constant(0)) {
    if (to != T::FLOAT) ctx.fail("a computed tensor can only be cast to float");
    return ctx.set_output(0, ctx.computed(0));
  }
  Constant c = ctx.constant(0, "input");
  for (double& v : c.values)
    v = to == T::FLOAT ? static_cast<float>(v) : to_int ? std::trunc(v) : (v != 0 ? 1 : 0);
  c.type = to_float ? Constant::Type::Float : to_int ? Constant::Type::Int : Constant::Type::Bool;
  ctx.set_output(0, c);
}

void constant_of_shape(Context& ctx) {
  const auto dims = to_ints(ctx, ctx.constant(0, "shape"), "shape");
  Constant fill = Constant::scalar(0);
  if (const auto* a = ctx.attr("value")) fill = decode_tensor(a->t(), {}, 0, "attribute value");
  if (fill.size() != 1) ctx.fail("value must hold one element");
  const int64_t n = checked_num_elements(dims, kMaxConstantElements);
  ctx.set_output(0, Constant::of(dims, std::vector<double>(static_cast<size_t>(n), fill.values[0]),
                                 fill.type));
}

// Reshape: 0 copies a dimension (unless allowzero), −1 is inferred. For a
// computed tensor the first entry must keep the batch.
void reshape(Context& ctx) {
  const Constant& shape_c = ctx.constant(1, "shape");
  const bool allow_zero = ctx.attr_int("allowzero", 0) != 0;
  const Value& in = ctx.input(0);
  if (const auto* c = std::get_if<Constant>(&in)) {
    auto target = to_ints(ctx, shape_c, "shape");
    int64_t known = 1, infer = -1;
    for (size_t k = 0; k < target.size(); ++k) {
      if (target[k] == 0 && !allow_zero) {
        if (k >= c->dims.size()) ctx.fail("shape copies a dimension the input lacks");
        target[k] = c->dims[k];
      }
      if (target[k] == -1) {
        if (infer >= 0) ctx.fail("shape has two −1");
        infer = static_cast<int64_t>(k);
      } else if (target[k] < 0) {
        ctx.fail("shape has a negative dimension");
      } else {
        known *= target[k];
      }
    }
    if (infer >= 0) target[static_cast<size_t>(infer)] = known == 0 ? 0 : c->size() / known;
    if (checked_num_elements(target, kMaxConstantElements) != c->size())
      ctx.fail("shape " + to_string(target) + " does not fit " + std::to_string(c->size()) +
               " elements");
    return set_reshaped(ctx, in, target);
  }
  const Computed& x = std::get<Computed>(in);
  if (shape_c.dims.size() != 1 || shape_c.size() < 1) ctx.fail("shape must be a non-empty list");
  const bool batch_first =
      shape_c.tag(0) == Constant::Batch ||
      (shape_c.tag(0) == Constant::Known &&
       ((shape_c.values[0] == 0 && !allow_zero) ||
        (ctx.static_batch() && shape_c.values[0] == static_cast<double>(*ctx.static_batch()))));
  std::vector<int64_t> rest;
  for (size_t k = 1; k < shape_c.values.size(); ++k) {
    if (shape_c.tag(k) != Constant::Known)
      ctx.fail("shape entry " + std::to_string(k) + " is not known at import");
    rest.push_back(static_cast<int64_t>(shape_c.values[k]));
  }
  for (size_t k = 0; k < rest.size(); ++k)
    if (rest[k] == 0 && !allow_zero) {
      if (k >= x.shape.rank() || !x.shape.dim_known(k))
        ctx.fail("shape entry " + std::to_string(k + 1) + " copies a dimension not known");
      rest[k] = x.shape[k];
    }
  if (!batch_first) {
    // [-1, rest…] or [B, rest…] keeps the batch when rest covers one example.
    const bool minus_one = shape_c.tag(0) == Constant::Known && shape_c.values[0] == -1;
    if (!minus_one || !x.shape.fully_known() ||
        std::find(rest.begin(), rest.end(), -1) != rest.end() ||
        std::accumulate(rest.begin(), rest.end(), int64_t{1}, std::multiplies<>()) !=
            x.shape.num_elements())
      ctx.fail(
          "the first entry of shape must keep the batch dimension (supported: 0, the "
          "batch size from Shape, or -1 with the rest one example)");
  }
  for (int64_t d : rest)
    if (d < -1 || d == 0) ctx.fail("shape entry " + std::to_string(d) + " is not supported");
  reshape_computed(ctx, x, rest);
}

void transpose(Context& ctx) {
  const Value& in = ctx.input(0);
  const int64_t rank = onnx_rank(in);
  auto perm = ctx.attr_ints("perm").value_or(std::vector<int64_t>{});
  if (perm.empty())
    for (int64_t k = rank; k-- > 0;)
      perm.push_back(k);
  if (static_cast<int64_t>(perm.size()) != rank) ctx.fail("perm has the wrong length");
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t& p : perm) {
    p = normalize_axis(ctx, p, rank, "perm entry");
    if (seen[static_cast<size_t>(p)]) ctx.fail("perm repeats an axis");
    seen[static_cast<size_t>(p)] = true;
  }
  bool identity = true;
  for (int64_t k = 0; k < rank; ++k)
    identity = identity && perm[static_cast<size_t>(k)] == k;
  if (!std::holds_alternative<Constant>(in)) {
    if (!identity) ctx.fail("transposing a computed tensor is not supported");
    return ctx.set_output(0, in);
  }
  const Constant& c = std::get<Constant>(in);
  Dims out;
  for (int64_t p : perm)
    out.push_back(c.dims[static_cast<size_t>(p)]);
  const auto ds = strides_of(c.dims);
  std::vector<int64_t> flat;
  for_each_index(out, [&](const std::vector<int64_t>& idx, int64_t) {
    int64_t off = 0;
    for (size_t k = 0; k < idx.size(); ++k)
      off += idx[k] * ds[static_cast<size_t>(perm[k])];
    flat.push_back(off);
  });
  ctx.set_output(0, pick(c, out, flat));
}

void flatten(Context& ctx) {
  const Value& in = ctx.input(0);
  const int64_t rank = onnx_rank(in);
  const int64_t axis = ctx.attr_int("axis", 1);
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a > rank) ctx.fail("axis " + std::to_string(axis) + " is out of range");
  if (const auto* c = std::get_if<Constant>(&in)) {
    const int64_t outer = checked_num_elements(Dims(c->dims.begin(), c->dims.begin() + a));
    return set_reshaped(ctx, in, {outer, c->size() / std::max<int64_t>(outer, 1)});
  }
  const Computed& x = std::get<Computed>(in);
  // The output is a matrix: any axis but 1 merges the batch with other dimensions.
  if (a != 1)
    ctx.fail("axis " + std::to_string(axis) + " merges the batch dimension (supported: axis 1)");
  ctx.set_output(0, x.shape.rank() == 1 ? x : ctx.add(FlattenLayer(), {x}));
}

void dropout(Context& ctx) {
  ctx.ignore_attr("seed");
  ctx.ignore_attr("ratio");
  ctx.ignore_attr("is_test");
  if (ctx.has_input(2)) {
    const Constant& t = ctx.constant(2, "training_mode");
    if (t.size() != 1 || t.values[0] != 0) ctx.fail("training_mode true is not supported");
  }
  if (ctx.output_used(1)) ctx.fail("the mask output is not supported");
  ctx.set_output(0, ctx.input(0));
}

// Pad -> PaddingLayer (constant, reflect, edge, wrap); zero pads vanish (as
// the pads PyTorch's pooling emits). Pads come from the attribute before
// opset 11 and from a constant input from 11 (PyTorch's ReflectionPad2d
// computes them in a subgraph that folds): [b1, b2, …, a1, a2, …] over every
// ONNX dimension, the batch's 0.
void pad(Context& ctx) {
  const std::string mode = ctx.attr_string("mode", "constant");
  std::vector<int64_t> pads;
  double value = 0;
  if (ctx.opset() < 11) {
    pads = ctx.attr_ints(ctx.opset() < 2 ? "paddings" : "pads").value_or(std::vector<int64_t>{});
    value = ctx.attr_float("value", 0);
  } else {
    pads = to_ints(ctx, ctx.constant(1, "pads"), "pads");
    if (ctx.has_input(2)) {
      const Constant& v = ctx.constant(2, "constant_value");
      if (v.size() != 1 || !v.all_known()) ctx.fail("constant_value must be one known number");
      value = v.values[0];
    }
    if (ctx.has_input(3)) ctx.fail("input 3 (axes) is not supported");
  }
  const Computed& x = ctx.computed(0);
  const size_t rank = x.shape.rank() + 1;
  if (pads.size() != 2 * rank)
    ctx.fail("pads has " + std::to_string(pads.size()) + " values for an input of rank " +
             std::to_string(rank) + " (expected " + std::to_string(2 * rank) + ")");
  bool any = false;
  for (int64_t p : pads) {
    if (p < 0) ctx.fail("negative pads (cropping) are not supported");
    if (p > (int64_t{1} << 30)) ctx.fail("pads above 2^30 are not supported");
    any = any || p != 0;
  }
  if (pads[0] != 0 || pads[rank] != 0) ctx.fail("padding the batch dimension is not supported");
  static const std::map<std::string, PaddingMode, std::less<>> kModes = {
      {"constant", PaddingMode::Constant},
      {"edge", PaddingMode::Fixed},
      {"reflect", PaddingMode::Reflected},
      {"wrap", PaddingMode::Periodic}};
  const auto it = kModes.find(mode);
  if (it == kModes.end())
    ctx.fail("mode \"" + mode + "\" is not supported (supported: constant, reflect, edge, wrap)");
  if (!any) return ctx.set_output(0, x);
  PaddingPairs pairs;
  for (size_t d = 1; d < rank; ++d)
    pairs.emplace_back(pads[d], pads[d + rank]);
  PaddingLayer layer(pairs);
  if (it->second == PaddingMode::Constant)
    layer.padding(value);
  else
    layer.padding(it->second);
  ctx.set_output(0, ctx.add(layer, {x}));
}

void if_node(Context& ctx) {
  const Constant& cond = ctx.constant(0, "cond");
  if (cond.size() != 1 || !cond.all_known()) ctx.fail("cond must be one known value");
  const auto* branch = ctx.attr(cond.values[0] != 0 ? "then_branch" : "else_branch");
  ctx.ignore_attr("then_branch");
  ctx.ignore_attr("else_branch");
  if (!branch) ctx.fail("the branch is missing");
  ctx.convert_subgraph(branch->g());
  if (branch->g().output_size() != static_cast<int>(ctx.output_count()))
    ctx.fail("the branch has " + std::to_string(branch->g().output_size()) + " outputs");
  for (size_t i = 0; i < ctx.output_count(); ++i) {
    const Value* v = ctx.value(branch->g().output(static_cast<int>(i)).name());
    if (!v) ctx.fail("the branch does not compute its output " + std::to_string(i));
    ctx.set_output(i, *v);
  }
}

void range(Context& ctx) {
  const Constant& s = ctx.constant(0, "start");
  const Constant& l = ctx.constant(1, "limit");
  const Constant& d = ctx.constant(2, "delta");
  if (s.size() != 1 || l.size() != 1 || d.size() != 1 || !s.all_known() || !l.all_known() ||
      !d.all_known() || d.values[0] == 0)
    ctx.fail("start, limit and delta must be known scalars, delta not 0");
  const double n = std::max(0.0, std::ceil((l.values[0] - s.values[0]) / d.values[0]));
  if (n > static_cast<double>(kMaxConstantElements)) ctx.fail("too many elements");
  std::vector<double> v;
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i)
    v.push_back(s.values[0] + static_cast<double>(i) * d.values[0]);
  ctx.set_output(0, Constant::of({static_cast<int64_t>(v.size())}, v, s.type));
}

}  // namespace

void add_shape_ops(std::map<std::string, Converter, std::less<>>& t) {
  t["Constant"] = constant_node;
  t["Shape"] = shape;
  t["Gather"] = gather;
  t["Unsqueeze"] = unsqueeze;
  t["Squeeze"] = squeeze;
  t["Concat"] = concat;
  t["Slice"] = slice;
  t["Cast"] = cast;
  t["ConstantOfShape"] = constant_of_shape;
  t["Reshape"] = reshape;
  t["Transpose"] = transpose;
  t["Flatten"] = flatten;
  t["Identity"] = [](Context& ctx) { ctx.set_output(0, ctx.input(0)); };
  t["Dropout"] = dropout;
  t["If"] = if_node;
  t["Pad"] = pad;
  t["Range"] = range;
}

}  // namespace strata::onnx_io
