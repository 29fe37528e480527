#pragma once
// Containers: Sequential (forward chains its children), ModuleList and ModuleDict (hold
// children for a custom forward).
// They keep Module::stats' default, saying nothing: summary() shows their children's rows.
#include <initializer_list>

#include "loom/nn/module.hpp"

namespace loom::nn {

class LOOM_API Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  // Appends a child named by its position ("0", "1", ...) or by `name`.
  Sequential& push_back(std::shared_ptr<Module> module);
  Sequential& push_back(const std::string& name, std::shared_ptr<Module> module);
  Tensor forward(const Tensor& x) override;
  TensorList forward(const TensorList& xs) override;
  std::size_t size() const { return named_children().size(); }
  std::shared_ptr<Module> operator[](std::size_t i) const;
};

class LOOM_API ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  ModuleList(std::initializer_list<std::shared_ptr<Module>> modules);
  ModuleList& push_back(std::shared_ptr<Module> module);
  std::size_t size() const { return named_children().size(); }
  std::shared_ptr<Module> operator[](std::size_t i) const;
  Tensor forward(const Tensor& x) override;  // an error: a ModuleList has no forward of its own
};

class LOOM_API ModuleDict : public Module {
 public:
  ModuleDict() : Module("ModuleDict") {}
  ModuleDict& insert(const std::string& name, std::shared_ptr<Module> module);
  std::shared_ptr<Module> operator[](const std::string& name) const;  // ValueError if absent
  bool contains(const std::string& name) const { return child(name) != nullptr; }
  Tensor forward(const Tensor& x) override;  // an error, as ModuleList
};

}  // namespace loom::nn
