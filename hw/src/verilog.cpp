// The Verilog builder: declarations are rendered from (kind, name, width, signedness), processes from statement
// trees, so indentation, `begin`/`end`, blocking vs non-blocking assignment and port lists are produced in one place.
#include "faq/hw/verilog.h"

#include <fmt/format.h>

#include <stdexcept>

namespace faq::hw {

namespace {

std::string range(int width) { return width == 1 ? "" : fmt::format("[{}:0] ", width - 1); }
std::string pad(int indent) { return std::string(static_cast<std::size_t>(2 * indent), ' '); }

}  // namespace

std::string lit(int width, std::int64_t value, bool is_signed) {
  if (width < 1) throw std::logic_error("literal of width < 1");
  const char* s = is_signed ? "s" : "";
  if (value < 0) return fmt::format("-{}'{}d{}", width, s, static_cast<std::uint64_t>(-(value + 1)) + 1);
  return fmt::format("{}'{}d{}", width, s, value);
}

std::string sign_extend(const std::string& value, const std::string& sign, int extra) {
  if (extra < 0) throw std::logic_error("sign extension by a negative width");
  return extra == 0 ? value : fmt::format("{{{{{}{{{}}}}}, {}}}", extra, sign, value);
}

std::string widen(const std::string& value, int from, int to) { return sign_extend(value, fmt::format("{}[{}]", value, from - 1), to - from); }

struct Block::Stmt {
  enum Kind { Assign, If, Case, Comment } kind = Assign;
  std::string a, b;  // assign: lhs, rhs; if: condition; case: selector; comment: text
  Block then_part, else_part;
  std::vector<std::pair<std::string, Block>> arms;
  bool has_else = false;
};

Block& Block::assign(const std::string& lhs, const std::string& rhs) {
  auto s = std::make_shared<Stmt>();
  s->kind = Stmt::Assign;
  s->a = lhs;
  s->b = rhs;
  stmts_.push_back(s);
  return *this;
}

Block& Block::if_(const std::string& cond, const std::function<void(Block&)>& then_part, const std::function<void(Block&)>& else_part) {
  auto s = std::make_shared<Stmt>();
  s->kind = Stmt::If;
  s->a = cond;
  then_part(s->then_part);
  if (else_part) {
    s->has_else = true;
    else_part(s->else_part);
  }
  stmts_.push_back(s);
  return *this;
}

Block& Block::case_(const std::string& selector, const std::vector<std::pair<std::string, std::function<void(Block&)>>>& arms,
                    const std::function<void(Block&)>& default_part) {
  auto s = std::make_shared<Stmt>();
  s->kind = Stmt::Case;
  s->a = selector;
  for (const auto& [value, body] : arms) {
    s->arms.emplace_back(value, Block{});
    body(s->arms.back().second);
  }
  s->has_else = true;
  default_part(s->else_part);
  stmts_.push_back(s);
  return *this;
}

Block& Block::comment(const std::string& text) {
  auto s = std::make_shared<Stmt>();
  s->kind = Stmt::Comment;
  s->a = text;
  stmts_.push_back(s);
  return *this;
}

std::string Block::render(int indent, bool clocked) const {
  std::string out;
  for (const auto& s : stmts_) {
    switch (s->kind) {
      case Stmt::Assign: out += fmt::format("{}{} {} {};\n", pad(indent), s->a, clocked ? "<=" : "=", s->b); break;
      case Stmt::Comment: out += fmt::format("{}// {}\n", pad(indent), s->a); break;
      case Stmt::If:
        out += fmt::format("{}if ({}) begin\n{}{}end", pad(indent), s->a, s->then_part.render(indent + 1, clocked), pad(indent));
        if (s->has_else) out += fmt::format(" else begin\n{}{}end", s->else_part.render(indent + 1, clocked), pad(indent));
        out += "\n";
        break;
      case Stmt::Case:
        out += fmt::format("{}case ({})\n", pad(indent), s->a);
        for (const auto& [value, body] : s->arms)
          out += fmt::format("{}{}: begin\n{}{}end\n", pad(indent + 1), value, body.render(indent + 2, clocked), pad(indent + 1));
        out += fmt::format("{}default: begin\n{}{}end\n{}endcase\n", pad(indent + 1), s->else_part.render(indent + 2, clocked),
                           pad(indent + 1), pad(indent));
        break;
    }
  }
  return out;
}

Module::Module(std::string name, std::string description) : name_(std::move(name)), description_(std::move(description)) {}

std::string Module::declare(const char* kind, const std::string& name, int width, bool is_signed, const std::string& suffix) {
  if (width < 1) throw std::logic_error(fmt::format("{}: signal '{}' of width {}", name_, name, width));
  return fmt::format("{} {}{}{}{}", kind, is_signed ? "signed " : "", range(width), name, suffix);
}

Signal Module::input(const std::string& name, int width, bool is_signed) {
  ports_.push_back(declare("input wire", name, width, is_signed));
  return {name, width, is_signed};
}

Signal Module::output(const std::string& name, int width, bool is_signed) {
  ports_.push_back(declare("output wire", name, width, is_signed));
  return {name, width, is_signed};
}

Signal Module::output_reg(const std::string& name, int width, bool is_signed) {
  ports_.push_back(declare("output reg", name, width, is_signed));
  return {name, width, is_signed};
}

Signal Module::wire(const std::string& name, int width, bool is_signed) {
  items_.push_back(declare("wire", name, width, is_signed) + ";");
  return {name, width, is_signed};
}

Signal Module::reg(const std::string& name, int width, bool is_signed) {
  items_.push_back(declare("reg", name, width, is_signed) + ";");
  return {name, width, is_signed};
}

Signal Module::memory(const std::string& name, int width, std::int64_t depth, bool is_signed, bool block_ram) {
  items_.push_back(std::string(block_ram ? "(* ram_style = \"block\" *) " : "") +
                   declare("reg", name, width, is_signed, fmt::format(" [0:{}]", depth - 1)) + ";");
  return {name, width, is_signed};
}

Signal Module::localparam(const std::string& name, std::int64_t value) {
  items_.push_back(fmt::format("localparam integer {} = {};", name, value));
  return {name, 32, true};
}

void Module::assign(const std::string& lhs, const std::string& rhs) { items_.push_back(fmt::format("assign {} = {};", lhs, rhs)); }

void Module::always_ff(const std::string& clock, const std::function<void(Block&)>& body) {
  Block b;
  body(b);
  items_.push_back(fmt::format("always @(posedge {}) begin\n{}{}end", clock, b.render(2, true), pad(1)));
}

void Module::always_comb(const std::function<void(Block&)>& body) {
  Block b;
  body(b);
  items_.push_back(fmt::format("always @(*) begin\n{}{}end", b.render(2, false), pad(1)));
}

void Module::generate_for(const std::string& genvar, std::int64_t count, const std::string& label, const std::function<void(Module&)>& body) {
  Module inner(name_ + "." + label, "");
  body(inner);
  if (!inner.ports_.empty()) throw std::logic_error("ports declared inside a generate loop");
  if (inner.genvars_.count(genvar) != 0) throw std::logic_error("nested generate loops reuse genvar " + genvar);
  genvars_.insert(inner.genvars_.begin(), inner.genvars_.end());
  genvars_.insert(genvar);
  std::string text = fmt::format("for ({0} = 0; {0} < {1}; {0} = {0} + 1) begin : {2}\n", genvar, count, label);
  for (const auto& item : inner.items_) {
    std::string indented;
    for (std::size_t start = 0; start < item.size();) {
      const std::size_t end = item.find('\n', start);
      indented += pad(1) + item.substr(start, end == std::string::npos ? std::string::npos : end - start + 1);
      if (end == std::string::npos) break;
      start = end + 1;
    }
    text += pad(1) + indented + "\n";
  }
  items_.push_back(text + pad(1) + "end");
}

void Module::instance(const std::string& module, const std::string& instance_name,
                      const std::vector<std::pair<std::string, std::string>>& connections) {
  std::string text = fmt::format("{} {} (\n", module, instance_name);
  for (std::size_t i = 0; i < connections.size(); ++i)
    text += fmt::format("{}.{}({}){}\n", pad(2), connections[i].first, connections[i].second, i + 1 < connections.size() ? "," : "");
  items_.push_back(text + pad(1) + ");");
}

void Module::comment(const std::string& text) { items_.push_back("// " + text); }

void Module::lint_off(const std::string& warning) { items_.push_back("/* verilator lint_off " + warning + " */"); }
void Module::lint_on(const std::string& warning) { items_.push_back("/* verilator lint_on " + warning + " */"); }

std::string Module::render_items(int indent) const {
  std::string out;
  for (const auto& item : items_) out += pad(indent) + item + "\n";
  return out;
}

std::string Module::render() const {
  std::string out = fmt::format("// {}\nmodule {} (\n", description_, name_);
  for (std::size_t i = 0; i < ports_.size(); ++i) out += fmt::format("{}{}{}\n", pad(1), ports_[i], i + 1 < ports_.size() ? "," : "");
  out += ");\n";
  for (const auto& g : genvars_) out += fmt::format("{}genvar {};\n", pad(1), g);
  return out + render_items(1) + "endmodule\n";
}

std::string render_file(const std::string& header, const Module& module) {
  std::string out;
  for (std::size_t start = 0; start < header.size();) {
    const std::size_t end = header.find('\n', start);
    out += "// " + header.substr(start, end == std::string::npos ? std::string::npos : end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  out += "`default_nettype none\n\n";
  return out + module.render() + "\n`default_nettype wire\n";
}

}  // namespace faq::hw
