// Testbench of faq_accel for Icarus Verilog, for the behavioural RTL and for a gate-level netlist alike: the same
// memory system as the C++ co-simulation harness (sim/rtl/harness.h): a 1-cycle instruction port, a read channel
// with a fixed latency (one request per cycle, always ready) and a write channel with byte strobes.
// The testbench drives inputs and samples outputs away from the rising clock edge (inputs at the falling edge,
// outputs 1 ns later), so a zero-delay gate-level netlist sees no race with its flip-flops.
//   +imem=FILE   the program: one 128-bit instruction per line, hex
//   +dram=FILE   the DRAM image: one byte per line, hex
//   +out=FILE    the DRAM at the end, same format
//   +max=N       cycle bound (default 2000000)
//   +imem_words=N, +dram_bytes=N   how much of each file to read (default: the whole memory)
// Prints "cycles N error E" when done goes high, "timeout N" otherwise.
`timescale 1ns/1ps
module tb_faq_accel;
  parameter PB = 32;            // memory port bits (the configuration's mem_port_bits)
  parameter LATENCY = 20;       // read latency in cycles (sim::TimingOptions::mem_latency)
  parameter DRAM_BYTES = 1 << 20;
  parameter IMEM_WORDS = 1 << 14;
  localparam P = PB / 8;

  reg clk = 1'b0, rst = 1'b1, start = 1'b0;
  reg imem_valid = 1'b0, rd_valid = 1'b0;
  reg [127:0] imem_data = 128'd0;
  reg [PB-1:0] rd_data = {PB{1'b0}};
  wire done, error, imem_req, rd_req, wr_req;
  wire [31:0] imem_addr, rd_addr, wr_addr;
  wire [PB-1:0] wr_data;
  wire [P-1:0] wr_strb;
  wire [63:0] perf_cycles, perf_stall, perf_lines, perf_mem;
  wire [127:0] perf_busy, perf_unit_stall;
  wire [31:0] perf_configs;
  wire [255:0] perf_buf;

  faq_accel dut(.clk(clk), .rst(rst), .start(start), .prog_addr(32'd0), .done(done), .error(error),
                .imem_req(imem_req), .imem_addr(imem_addr), .imem_valid(imem_valid), .imem_data(imem_data),
                .rd_req(rd_req), .rd_addr(rd_addr), .rd_ready(1'b1), .rd_valid(rd_valid), .rd_data(rd_data),
                .wr_req(wr_req), .wr_addr(wr_addr), .wr_data(wr_data), .wr_strb(wr_strb), .wr_ready(1'b1),
                .perf_cycles(perf_cycles), .perf_stall(perf_stall), .perf_busy(perf_busy), .perf_configs(perf_configs),
                .perf_lines(perf_lines), .perf_mem(perf_mem), .perf_unit_stall(perf_unit_stall), .perf_buf(perf_buf));

  reg [127:0] imem [0:IMEM_WORDS-1];
  reg [7:0] dram [0:DRAM_BYTES-1];
  // outstanding reads: due cycle and address
  reg [63:0] rq_due [0:255];
  reg [31:0] rq_addr [0:255];
  reg [7:0] rq_head = 8'd0, rq_tail = 8'd0;
  reg imem_pending = 1'b0;
  reg [31:0] imem_a = 32'd0;
  reg [63:0] cycle = 64'd0, max_cycles = 64'd2000000;
  integer imem_words = IMEM_WORDS, dram_bytes = DRAM_BYTES;
  reg [1023:0] imem_file, dram_file, out_file;
  integer i;

  always #5 clk = ~clk;

  task finish_run;
    begin
      $writememh(out_file, dram);
      $finish;
    end
  endtask

  initial begin
    for (i = 0; i < IMEM_WORDS; i = i + 1) imem[i] = 128'd0;
    for (i = 0; i < DRAM_BYTES; i = i + 1) dram[i] = 8'd0;
    if (!$value$plusargs("imem=%s", imem_file) || !$value$plusargs("dram=%s", dram_file) || !$value$plusargs("out=%s", out_file)) begin
      $display("usage: vvp SIM +imem=FILE +dram=FILE +out=FILE [+max=N]");
      $finish;
    end
    if (!$value$plusargs("max=%d", max_cycles)) max_cycles = 64'd2000000;
    if (!$value$plusargs("imem_words=%d", imem_words)) imem_words = IMEM_WORDS;
    if (!$value$plusargs("dram_bytes=%d", dram_bytes)) dram_bytes = DRAM_BYTES;
    if (imem_words > IMEM_WORDS || dram_bytes > DRAM_BYTES) begin
      $display("program (%0d words) or DRAM image (%0d bytes) larger than the testbench's memories", imem_words, dram_bytes);
      $finish;
    end
    $readmemh(imem_file, imem, 0, imem_words - 1);
    $readmemh(dram_file, dram, 0, dram_bytes - 1);
    // reset for four cycles, start for one. The netlist's flip-flops power up unknown: at the first reset edge,
    // logic fed by still-unknown control state (an issue into a FIFO, say) can leave a register unknown through
    // gate-level X pessimism; the later edges see that control state reset. (The C++ harness resets once: 2-state.)
    @(negedge clk); rst = 1'b1; start = 1'b0;
    repeat (3) @(negedge clk);
    @(negedge clk); rst = 1'b0; start = 1'b1;
    @(negedge clk); start = 1'b0;
    forever begin
      // inputs of this cycle
      imem_valid = imem_pending;
      imem_data = imem[imem_a[31:4]];
      rd_valid = (rq_head != rq_tail) && (rq_due[rq_head] <= cycle);
      if (rd_valid) begin
        for (i = 0; i < P; i = i + 1) rd_data[8*i +: 8] = dram[rq_addr[rq_head] + i];
        rq_head = rq_head + 8'd1;
      end
      #1;
      // outputs of this cycle
      imem_pending = imem_req;
      imem_a = imem_addr;
      if (rd_req) begin
        rq_due[rq_tail] = cycle + LATENCY;
        rq_addr[rq_tail] = rd_addr;
        rq_tail = rq_tail + 8'd1;
      end
      if (wr_req)
        for (i = 0; i < P; i = i + 1)
          if (wr_strb[i]) begin
            if (wr_addr + i >= DRAM_BYTES) begin
              $display("write outside DRAM at %0d", wr_addr + i);
              $finish;
            end
            dram[wr_addr + i] = wr_data[8*i +: 8];
          end
      @(posedge clk); #1;
      if (done === 1'b1) begin
        $display("cycles %0d error %0d", cycle + 1, error);
        finish_run;
      end
      if (done !== 1'b0) begin
        $display("unknown done (%b) at cycle %0d", done, cycle);
        finish_run;
      end
      cycle = cycle + 1;
      if (cycle >= max_cycles) begin
        $display("timeout %0d", cycle);
        finish_run;
      end
      @(negedge clk);
    end
  end
endmodule
