// The assembled gradcheck table (rows by family in gradcheck_rows_*.cpp).
#include "gradcheck_rows.hpp"

#include "gradcheck_rows_internal.hpp"

namespace loom_autograd_test {

const std::map<std::string, std::vector<GradcheckRow>, std::less<>>& gradcheck_rows() {
  static const RowTable table = [] {
    RowTable t;
    add_elementwise_rows(t);
    add_reduction_rows(t);
    add_shape_rows(t);
    add_conv_rows(t);
    return t;
  }();
  return table;
}

}  // namespace loom_autograd_test
