// Switching activity of a mapped systolic array (faq_array, a gate-level netlist on the OSU 0.18 um cells) for
// scripts/mac_energy.py: the array's inputs are played from +stimulus=FILE ($readmemh, one line per cycle:
// {w_bank, w_shift, w_line, a_bank, a_valid, a_line}, N lines), and the array's nets are dumped to +vcd=FILE from
// cycle FROM to the end, so that the activity is that of the cycles measured, not of the preload before them.
`timescale 1ns / 1ps
`default_nettype none
module tb_array_energy;
  parameter integer R = 4, C = 4, AW = 5, WB = 4, OUT = 84, N = 1024, FROM = 128;
  localparam integer W = 2 + C * WB + 2 + R * AW;
  reg clk = 1'b0;
  reg [W-1:0] stim [0:N-1];
  reg [W-1:0] now = {W{1'b0}};
  /* verilator lint_off UNUSEDSIGNAL */
  wire [OUT-1:0] out_line;
  wire out_valid;
  /* verilator lint_on UNUSEDSIGNAL */
  faq_array dut (
    .clk(clk), .a_line(now[R*AW-1:0]), .a_valid(now[R*AW]), .a_bank(now[R*AW+1]), .w_line(now[R*AW+2 +: C*WB]),
    .w_shift(now[R*AW+2+C*WB]), .w_bank(now[R*AW+3+C*WB]), .out_line(out_line),
    .out_valid(out_valid)
  );
  reg [1023:0] stimulus, vcd;
  integer n;
  initial begin
    if (!$value$plusargs("stimulus=%s", stimulus) || !$value$plusargs("vcd=%s", vcd)) begin
      $display("tb_array_energy: +stimulus=FILE and +vcd=FILE are required");
      $finish;
    end
    $readmemh(stimulus, stim);
    for (n = 0; n < N; n = n + 1) begin
      if (n == FROM) begin
        $dumpfile(vcd);
        $dumpvars(1, dut);
      end
      now = stim[n];  // inputs change after the edge, as a registered driver's would
      #5 clk = 1'b1;
      #5 clk = 1'b0;
    end
    $dumpoff;
    $finish;
  end
endmodule
`default_nettype wire
