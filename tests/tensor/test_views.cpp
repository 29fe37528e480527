// Views share storage and carry the right sizes, strides and offsets; contiguous() copies only
// when it must. iota() makes element k hold k, so a view's values name the positions it reads.
#include "common/unit_helpers.hpp"

using namespace loom_test;
using loom::Tensor;

TEST_SUITE("views") {

TEST_CASE("view shares storage and writes through it are seen by the base") {
  auto base = iota({6});
  auto v = base.view({2, 3});
  CHECK(v.is_alias_of(base));
  CHECK(sizes_of(v) == std::vector<i64>{2, 3});
  CHECK(strides_of(v) == std::vector<i64>{3, 1});
  v[1].fill_(-1.0);
  CHECK(values(base) == std::vector<double>{0, 1, 2, -1, -1, -1});
}

TEST_CASE("view infers one -1 size") {
  auto v = iota({24}).view({2, -1, 4});
  CHECK(sizes_of(v) == std::vector<i64>{2, 3, 4});
}

TEST_CASE("transpose swaps sizes and strides without copying") {
  auto x = iota({2, 3});
  auto t = x.transpose(0, 1);
  CHECK(t.is_alias_of(x));
  CHECK(sizes_of(t) == std::vector<i64>{3, 2});
  CHECK(strides_of(t) == std::vector<i64>{1, 3});
  CHECK_FALSE(t.is_contiguous());
  CHECK(values(t) == std::vector<double>{0, 3, 1, 4, 2, 5});
  CHECK(strides_of(x.t()) == std::vector<i64>{1, 3});
  CHECK(strides_of(x.transpose(-1, -2)) == std::vector<i64>{1, 3});
}

TEST_CASE("permute reorders sizes and strides") {
  auto x = iota({2, 3, 4});
  auto p = x.permute({2, 0, 1});
  CHECK(p.is_alias_of(x));
  CHECK(sizes_of(p) == std::vector<i64>{4, 2, 3});
  CHECK(strides_of(p) == std::vector<i64>{1, 12, 4});
  // p[3][1][2] = x[1][2][3] = 12 + 8 + 3
  CHECK(p[3][1][2].item<double>() == 23.0);
}

TEST_CASE("slice with a step multiplies the stride and moves the offset") {
  auto x = iota({2, 8});
  auto s = x.slice(1, 1, 7, 2);
  CHECK(s.is_alias_of(x));
  CHECK(sizes_of(s) == std::vector<i64>{2, 3});
  CHECK(strides_of(s) == std::vector<i64>{8, 2});
  CHECK(s.storage_offset() == 1);
  CHECK(values(s) == std::vector<double>{1, 3, 5, 9, 11, 13});
}

TEST_CASE("slice with a step that does not divide the length rounds up") {
  auto s = iota({10}).slice(0, 0, 10, 3);
  CHECK(values(s) == std::vector<double>{0, 3, 6, 9});
}

TEST_CASE("narrow keeps strides and moves the offset") {
  auto x = iota({4, 6});
  auto n = x.narrow(1, 2, 3);
  CHECK(sizes_of(n) == std::vector<i64>{4, 3});
  CHECK(strides_of(n) == std::vector<i64>{6, 1});
  CHECK(n.storage_offset() == 2);
  CHECK(n[1].to_vector<double>() == std::vector<double>{8, 9, 10});
}

TEST_CASE("select drops a dim; negative indices count from the end") {
  auto x = iota({2, 3, 4});
  auto s = x.select(1, 2);
  CHECK(sizes_of(s) == std::vector<i64>{2, 4});
  CHECK(strides_of(s) == std::vector<i64>{12, 1});
  CHECK(s.storage_offset() == 8);
  CHECK(x.select(0, -1).storage_offset() == 12);
  CHECK(x.select(-1, 3).storage_offset() == 3);
}

TEST_CASE("expand gives stride 0 to broadcast dims") {
  auto col = iota({3, 1});
  auto e = col.expand({3, 4});
  CHECK(e.is_alias_of(col));
  CHECK(strides_of(e) == std::vector<i64>{1, 0});
  CHECK(values(e) == std::vector<double>{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2});
  auto lead = iota({4}).expand({2, -1});
  CHECK(sizes_of(lead) == std::vector<i64>{2, 4});
  CHECK(strides_of(lead) == std::vector<i64>{0, 1});
  CHECK_FALSE(lead.is_non_overlapping_and_dense());
}

TEST_CASE("squeeze and unsqueeze") {
  auto x = iota({1, 3, 1, 2});
  CHECK(sizes_of(x.squeeze()) == std::vector<i64>{3, 2});
  CHECK(sizes_of(x.squeeze(2)) == std::vector<i64>{1, 3, 2});
  CHECK(sizes_of(x.squeeze(1)) == std::vector<i64>{1, 3, 1, 2});  // size 3: unchanged
  CHECK(sizes_of(x.squeeze(-2)) == std::vector<i64>{1, 3, 2});
  CHECK(x.squeeze().is_alias_of(x));
  auto y = iota({3, 2});
  CHECK(sizes_of(y.unsqueeze(0)) == std::vector<i64>{1, 3, 2});
  CHECK(sizes_of(y.unsqueeze(1)) == std::vector<i64>{3, 1, 2});
  CHECK(sizes_of(y.unsqueeze(-1)) == std::vector<i64>{3, 2, 1});
  CHECK(strides_of(y.unsqueeze(2))[1] == 1);
}

TEST_CASE("flatten and unflatten are views of contiguous tensors") {
  auto x = iota({2, 3, 4});
  auto f = x.flatten(1);
  CHECK(f.is_alias_of(x));
  CHECK(sizes_of(f) == std::vector<i64>{2, 12});
  CHECK(sizes_of(x.flatten()) == std::vector<i64>{24});
  CHECK(sizes_of(x.flatten(0, 1)) == std::vector<i64>{6, 4});
  auto u = f.unflatten(1, {3, 4});
  CHECK(sizes_of(u) == std::vector<i64>{2, 3, 4});
  CHECK(strides_of(u) == std::vector<i64>{12, 4, 1});
  CHECK(sizes_of(f.unflatten(1, {-1, 6})) == std::vector<i64>{2, 2, 6});
}

TEST_CASE("as_strided reads the storage positions it is told") {
  auto x = iota({6});
  auto a = x.as_strided({2, 2}, {1, 2}, 1);
  CHECK(a.is_alias_of(x));
  CHECK(values(a) == std::vector<double>{1, 3, 2, 4});
}

TEST_CASE("reshape is a view when possible and a copy otherwise") {
  auto x = iota({2, 3});
  auto r = x.reshape({3, 2});
  CHECK(r.is_alias_of(x));
  auto t = x.t();  // (3, 2), strides (1, 3): no flat view exists
  auto copied = t.reshape({6});
  CHECK_FALSE(copied.is_alias_of(x));
  CHECK(values(copied) == std::vector<double>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("view works on a non-contiguous tensor when the layout allows it") {
  auto s = iota({4, 6}).slice(1, 0, 6, 2);  // (4, 3), strides (6, 2)
  auto v = s.view({2, 2, 3});
  CHECK(v.is_alias_of(s));
  CHECK(strides_of(v) == std::vector<i64>{12, 6, 2});
  CHECK(values(v) == values(s));
}

TEST_CASE("contiguous() returns the same storage when already contiguous") {
  auto x = iota({2, 3});
  auto c = x.contiguous();
  CHECK(c.is_alias_of(x));
  CHECK(c.storage_offset() == x.storage_offset());
}

TEST_CASE("contiguous() copies a transposed tensor into row-major order") {
  auto x = iota({2, 3});
  auto c = x.t().contiguous();
  CHECK_FALSE(c.is_alias_of(x));
  CHECK(c.is_contiguous());
  CHECK(strides_of(c) == std::vector<i64>{2, 1});
  CHECK(values(c) == std::vector<double>{0, 3, 1, 4, 2, 5});
  // The copy is independent of the source.
  x.fill_(7.0);
  CHECK(values(c) == std::vector<double>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("contiguous() of a sliced view copies only the selected elements") {
  auto s = iota({10}).slice(0, 1, 10, 4);
  auto c = s.contiguous();
  CHECK(c.storage_offset() == 0);
  CHECK(values(c) == std::vector<double>{1, 5, 9});
}

TEST_CASE("clone copies storage and keeps values") {
  auto x = iota({2, 2});
  auto c = x.clone();
  CHECK_FALSE(c.is_alias_of(x));
  CHECK(values(c) == values(x));
}

}  // TEST_SUITE
