// A small Verilog builder (the subset Verilator 5.006, Yosys 0.23 and Icarus 11 all accept): modules with typed
// ports, wires, registers and memories, continuous assignments, clocked and combinational processes made of
// statements (assignment, if/else, case), generate loops and instances. Expressions are strings; every name and
// width goes through a Signal, so a generator never pastes declarations or process syntax by hand.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace faq::hw {

// A declared net or variable; `name` is what expressions use.
struct Signal {
  std::string name;
  int width = 1;
  bool is_signed = false;
  operator const std::string&() const { return name; }
};

// Literal of `width` bits, e.g. lit(8, 5) = "8'd5", lit(8, -1, true) = "-8'sd1".
std::string lit(int width, std::int64_t value, bool is_signed = false);

// `value` widened by `extra` copies of `sign` (an expression for its sign bit): "{{extra{sign}}, value}", or `value`
// itself when extra is 0.
std::string sign_extend(const std::string& value, const std::string& sign, int extra);

// A signal of `from` bits sign-extended to `to` bits: sign_extend(value, "value[from-1]", to - from).
std::string widen(const std::string& value, int from, int to);

// Statements of a process.
class Block {
 public:
  Block& assign(const std::string& lhs, const std::string& rhs);          // lhs <= rhs in clocked, = in combinational
  Block& if_(const std::string& cond, const std::function<void(Block&)>& then_part,
             const std::function<void(Block&)>& else_part = {});
  // case (selector) value: ...; default: ...
  Block& case_(const std::string& selector, const std::vector<std::pair<std::string, std::function<void(Block&)>>>& arms,
               const std::function<void(Block&)>& default_part);
  Block& comment(const std::string& text);
  std::string render(int indent, bool clocked) const;

 private:
  struct Stmt;
  std::vector<std::shared_ptr<Stmt>> stmts_;
};

class Module {
 public:
  explicit Module(std::string name, std::string description);

  const std::string& name() const { return name_; }
  Signal input(const std::string& name, int width = 1, bool is_signed = false);
  Signal output(const std::string& name, int width = 1, bool is_signed = false);  // driven by assign
  Signal output_reg(const std::string& name, int width = 1, bool is_signed = false);
  Signal wire(const std::string& name, int width = 1, bool is_signed = false);
  Signal reg(const std::string& name, int width = 1, bool is_signed = false);
  // block_ram: marked for block RAM (Yosys's ram_style), even where it is small enough for synthesis to choose flip-flops
  Signal memory(const std::string& name, int width, std::int64_t depth, bool is_signed = false, bool block_ram = false);
  Signal localparam(const std::string& name, std::int64_t value);
  void assign(const std::string& lhs, const std::string& rhs);
  void always_ff(const std::string& clock, const std::function<void(Block&)>& body);
  void always_comb(const std::function<void(Block&)>& body);
  // A generate for loop: `genvar` from 0 to count - 1, around the text the body module builds (its declarations
  // are local to the loop body: named block `label`).
  void generate_for(const std::string& genvar, std::int64_t count, const std::string& label, const std::function<void(Module&)>& body);
  void instance(const std::string& module, const std::string& instance_name,
                const std::vector<std::pair<std::string, std::string>>& connections);
  void comment(const std::string& text);
  // Verilator lint pragmas around declarations whose bits are unused by design (array edges); other tools
  // read them as comments.
  void lint_off(const std::string& warning);
  void lint_on(const std::string& warning);
  std::string render() const;

 private:
  std::string declare(const char* kind, const std::string& name, int width, bool is_signed, const std::string& suffix = "");
  std::string render_items(int indent) const;

  std::string name_, description_;
  std::vector<std::string> ports_;   // "input wire [7:0] x"
  std::vector<std::string> items_;   // rendered at depth 1
  std::set<std::string> genvars_;    // declared once, at module level
};

// A generated file (one module per file, named after it), with a header naming the generator and the configuration hash.
std::string render_file(const std::string& header, const Module& module);

}  // namespace faq::hw
