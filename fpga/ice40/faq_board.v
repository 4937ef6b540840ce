// Board top level for the generated FAQ accelerator (faq_accel) on an iCE40: the UP5K of an iCEBreaker or the HX8K
// of an iCE40-HX8K breakout board, docs/fpga.md.
//
//   clock   the board's 12 MHz oscillator through the PLL (parameters from icepll, fpga/ice40/bitstream.sh)
//   memory  2^ADDR_BITS bytes of 64-bit words (the configuration's dram_addr_bits), holding the program and the
//           DRAM image: the UP5K's four SPRAMs side by side (SPRAM = 1, 128 KiB) or block RAM (SPRAM = 0, the
//           HX8K: 4 KiB in 8 of its 32 blocks). One engine serves, a request at a time, the UART,
//           instruction fetches (two words per 128-bit instruction), write beats and read beats (two words read
//           or written per beat, so that a beat may straddle a word: the accelerator's beats are byte-addressed)
//   host    a UART (8N1): every command is 6 bytes, a command letter, a 24-bit address and a 16-bit count (big
//           endian), then
//             'W'  count data bytes follow, written from address on; answers 'K'
//             'R'  answers count bytes read from address on
//             'G'  starts the accelerator on the program at address; answers 'K'
//             'S'  answers a status byte {5'b0, error, done, running} and the cycles of the last run (32 bits,
//                  little endian)
//           faq-board (sim/board) speaks it.
//   LEDs    led_done: the last run ended without error; led_error: an error (unknown opcode); active low where
//           LED_ACTIVE_LOW (iCEBreaker)
// FAQ_BOARD_SIM (simulation) takes the clock from clk_12m as it is, without the PLL.
`default_nettype none

module faq_board #(
  parameter integer PORT_BITS = 16,     // the configuration's mem_port_bits (16 or 32)
  parameter integer ADDR_BITS = 17,     // the configuration's dram_addr_bits: the board's memory of 2^ADDR_BITS bytes
  parameter integer SPRAM = 1,          // 1: four SPRAMs (ADDR_BITS 17); 0: block RAM
  parameter integer LED_ACTIVE_LOW = 1,
  parameter integer CLK_HZ = 24000000,  // the PLL's output
  parameter integer BAUD = 115200,
  /* verilator lint_off UNUSEDPARAM */  // (simulation has no PLL)
  parameter integer PLL_PAD = 1,        // 1: the clock pin feeds the PLL directly (SB_PLL40_PAD); 0: SB_PLL40_CORE
  parameter [3:0] PLL_DIVR = 4'd0,
  parameter [6:0] PLL_DIVF = 7'd63,
  parameter [2:0] PLL_DIVQ = 3'd5,
  parameter [2:0] PLL_FILTER = 3'd1
  /* verilator lint_on UNUSEDPARAM */
) (
  input wire clk_12m,
  input wire uart_rx,
  output wire uart_tx,
  output wire led_error,
  output wire led_done
);
  localparam integer PB = PORT_BITS / 8;
  localparam integer MW = ADDR_BITS - 3;  // word address bits
  localparam integer DIV = CLK_HZ / BAUD;
  localparam integer TW = $clog2(DIV + 1);  // the bit timers: as wide as a bit's cycles need, no wider
  localparam integer FULL = DIV - 1, HALF = DIV / 2;
  localparam [2:0] PB_MASK = PB[2:0] - 3'd1;  // PB is 2 or 4

  // ---- clock and reset: held until the PLL locks, then 16 cycles ----------------------------------------------
  wire clk, locked;
`ifdef FAQ_BOARD_SIM
  assign clk = clk_12m;
  assign locked = 1'b1;
`else
  generate
    if (PLL_PAD != 0) begin : pad
      SB_PLL40_PAD #(.FEEDBACK_PATH("SIMPLE"), .DIVR(PLL_DIVR), .DIVF(PLL_DIVF), .DIVQ(PLL_DIVQ), .FILTER_RANGE(PLL_FILTER))
        pll (.PACKAGEPIN(clk_12m), .PLLOUTGLOBAL(clk), .LOCK(locked), .RESETB(1'b1), .BYPASS(1'b0));
    end else begin : core
      SB_PLL40_CORE #(.FEEDBACK_PATH("SIMPLE"), .DIVR(PLL_DIVR), .DIVF(PLL_DIVF), .DIVQ(PLL_DIVQ), .FILTER_RANGE(PLL_FILTER))
        pll (.REFERENCECLK(clk_12m), .PLLOUTGLOBAL(clk), .LOCK(locked), .RESETB(1'b1), .BYPASS(1'b0));
    end
  endgenerate
`endif
  reg [4:0] rst_count = 5'd0;
  wire rst = !rst_count[4];
  always @(posedge clk) begin
    if (!locked) rst_count <= 5'd0;
    else if (rst) rst_count <= rst_count + 5'd1;
  end

  // ---- the accelerator ----------------------------------------------------------------------------------------
  reg start;
  reg [23:0] prog_addr;
  wire done, error, imem_req, rd_req, wr_req;
  /* verilator lint_off UNUSEDSIGNAL */  // bits above the board's memory (dram_addr_bits: zero)
  wire [31:0] imem_addr, rd_addr, wr_addr;
  /* verilator lint_on UNUSEDSIGNAL */
  wire imem_valid, rd_valid;
  wire [127:0] imem_data;
  wire [PORT_BITS-1:0] rd_data;
  wire [PORT_BITS-1:0] wr_data;
  wire [PB-1:0] wr_strb;
  wire rd_ready, wr_ready;
  /* verilator lint_off PINCONNECTEMPTY */
  faq_accel accel (
    .clk(clk), .rst(rst), .start(start), .prog_addr({8'd0, prog_addr}), .done(done), .error(error),
    .imem_req(imem_req), .imem_addr(imem_addr), .imem_valid(imem_valid), .imem_data(imem_data),
    .rd_req(rd_req), .rd_addr(rd_addr), .rd_ready(rd_ready), .rd_valid(rd_valid), .rd_data(rd_data),
    .wr_req(wr_req), .wr_addr(wr_addr), .wr_data(wr_data), .wr_strb(wr_strb), .wr_ready(wr_ready),
    .perf_cycles(), .perf_stall(), .perf_busy(), .perf_configs(), .perf_lines(), .perf_mem(), .perf_unit_stall(),
    .perf_buf()
  );
  /* verilator lint_on PINCONNECTEMPTY */
  reg running;
  reg [31:0] cycles;

  // ---- memory: 2^MW words of 64 bits (four SPRAMs: 16K), driven by the engine below; a read answers at the next
  // edge -----------------------------------------------------------------------------------------------------------
  wire [MW-1:0] m_addr;
  wire [63:0] m_wdata;
  wire [7:0] m_wmask;  // bytes
  wire m_we;
  wire [63:0] m_rdata;
  genvar k;
  generate
    if (SPRAM != 0) begin : sprams
      for (k = 0; k < 4; k = k + 1) begin : spram
        SB_SPRAM256KA ram (
          .ADDRESS(m_addr), .DATAIN(m_wdata[16*k+15:16*k]),
          .MASKWREN({m_wmask[2*k+1], m_wmask[2*k+1], m_wmask[2*k], m_wmask[2*k]}), .WREN(m_we), .CHIPSELECT(1'b1),
          .CLOCK(clk), .STANDBY(1'b0), .SLEEP(1'b0), .POWEROFF(1'b1), .DATAOUT(m_rdata[16*k+15:16*k]));
      end
    end else begin : bram
      reg [63:0] mem [0:(1 << MW) - 1];
      reg [63:0] q;
      for (k = 0; k < 8; k = k + 1) begin : lane
        always @(posedge clk) if (m_we && m_wmask[k]) mem[m_addr][8*k+7:8*k] <= m_wdata[8*k+7:8*k];
      end
      always @(posedge clk) q <= mem[m_addr];
      assign m_rdata = q;
    end
  endgenerate

  // ---- UART ---------------------------------------------------------------------------------------------------
  reg [1:0] rx_sync = 2'b11;
  always @(posedge clk) rx_sync <= {rx_sync[0], uart_rx};
  reg [TW-1:0] rx_timer;
  reg [3:0] rx_bit;  // 0 idle, 1 start, 2..9 data, 10 stop
  reg [7:0] rx_shift;
  reg rx_strobe;  // rx_shift holds a byte
  always @(posedge clk) begin
    rx_strobe <= 1'b0;
    if (rst) begin
      rx_bit <= 4'd0;
    end else if (rx_bit == 4'd0) begin
      if (!rx_sync[1]) begin
        rx_bit <= 4'd1;
        rx_timer <= HALF[TW-1:0];
      end
    end else if (rx_timer != {TW{1'b0}}) begin
      rx_timer <= rx_timer - 1'b1;
    end else begin
      rx_timer <= FULL[TW-1:0];
      if (rx_bit == 4'd1) begin
        rx_bit <= rx_sync[1] ? 4'd0 : 4'd2;  // a glitch, not a start bit
      end else if (rx_bit == 4'd10) begin
        rx_bit <= 4'd0;
        rx_strobe <= rx_sync[1];
      end else begin
        rx_shift <= {rx_sync[1], rx_shift[7:1]};
        rx_bit <= rx_bit + 4'd1;
      end
    end
  end
  reg [9:0] tx_shift;  // stop, data, start: shifted out from bit 0
  reg [3:0] tx_bits;
  reg [TW-1:0] tx_timer;
  reg tx_load;
  reg [7:0] tx_byte;
  wire tx_free = tx_bits == 4'd0 && !tx_load;
  assign uart_tx = tx_bits == 4'd0 ? 1'b1 : tx_shift[0];
  always @(posedge clk) begin
    if (rst) begin
      tx_bits <= 4'd0;
    end else if (tx_load) begin
      tx_shift <= {1'b1, tx_byte, 1'b0};
      tx_bits <= 4'd10;
      tx_timer <= FULL[TW-1:0];
    end else if (tx_bits != 4'd0) begin
      if (tx_timer != {TW{1'b0}}) begin
        tx_timer <= tx_timer - 1'b1;
      end else begin
        tx_timer <= FULL[TW-1:0];
        tx_shift <= {1'b1, tx_shift[9:1]};
        tx_bits <= tx_bits - 4'd1;
      end
    end
  end

  // ---- the host's commands ------------------------------------------------------------------------------------
  localparam [2:0] C_HEADER = 3'd0, C_WRITE = 3'd1, C_READ = 3'd2, C_READ_WAIT = 3'd3, C_STATUS = 3'd4, C_ACK = 3'd5;
  reg [2:0] c_state;
  reg [2:0] c_count;  // header bytes received
  reg [7:0] c_cmd;
  reg [23:0] c_addr;
  reg [15:0] c_len;
  reg [2:0] c_sent;  // status bytes sent
  // the engine's UART port: one byte written or read
  reg u_req, u_we;
  reg [7:0] u_wdata;
  reg u_done;
  reg [7:0] u_rdata;

  // ---- the memory engine --------------------------------------------------------------------------------------
  // One access at a time, in two memory cycles (its first and second word), chosen when idle by priority: the
  // UART, instruction fetches, write beats, read beats. A read answers in E_R3, while the memory holds the second
  // word; a write or read beat is accepted (wr_ready, rd_ready) in its second cycle, so that its address and data,
  // held by the accelerator until then, drive the memory directly.
  localparam [2:0] E_IDLE = 3'd0, E_R1 = 3'd1, E_R2 = 3'd2, E_R3 = 3'd3, E_W1 = 3'd4, E_W2 = 3'd5;
  localparam [1:0] K_UART = 2'd0, K_IMEM = 2'd1, K_READ = 2'd2, K_WRITE = 2'd3;
  reg [2:0] e_state;
  reg [1:0] e_kind;
  reg [MW-1:0] e_addr;  // the first word
  reg [2:0] e_lane;   // byte offset of the access in its first word
  reg [63:0] e_lo;    // the first word read
  // instruction requests not yet started: at most 4, at consecutive addresses from imem_next
  reg [2:0] imem_count;
  reg [ADDR_BITS-1:0] imem_next;
  wire e_free = e_state == E_IDLE;
  wire take_uart = e_free && u_req;
  wire take_imem = e_free && !u_req && imem_count != 3'd0;
  wire take_write = e_free && !u_req && imem_count == 3'd0 && wr_req;
  wire take_read = e_free && !u_req && imem_count == 3'd0 && !wr_req && rd_req;
  assign wr_ready = e_state == E_W2 && e_kind == K_WRITE;
  assign rd_ready = e_state == E_R2 && e_kind == K_READ;
  // a write: the strobes shifted to the beat's byte offset within two words; memory byte j takes the beat's byte
  // (j - offset) mod PB in either word (8 is a multiple of PB), the UART's byte everywhere: the masks pick. So the
  // beat is rotated once by its offset (w_rot: byte i is the beat's byte (i - offset) mod PB) and memory byte j
  // takes w_rot's byte j mod PB (no multiplexer per memory byte)
  wire [15:0] w_mask = e_kind == K_UART ? 16'd1 << e_lane : {{(16 - PB){1'b0}}, wr_strb} << e_lane;
  wire [PORT_BITS-1:0] w_src = e_kind == K_UART ? {PB{u_wdata}} : wr_data;
  wire [PORT_BITS-1:0] w_rot;
  generate
    for (k = 0; k < PB; k = k + 1) begin : wbyte
      wire [2:0] rel = k[2:0] - e_lane;
      wire [2:0] byte_of = rel & PB_MASK;
      assign w_rot[8*k+7:8*k] = w_src[8 * byte_of +: 8];
    end
  endgenerate
  wire second = e_state == E_R2 || e_state == E_W2;
  assign m_addr = second ? e_addr + {{(MW - 1){1'b0}}, 1'b1} : e_addr;
  assign m_we = (e_state == E_W1 && w_mask[7:0] != 8'd0) || (e_state == E_W2 && w_mask[15:8] != 8'd0);
  assign m_wdata = {(8 / PB){w_rot}};
  assign m_wmask = second ? w_mask[15:8] : w_mask[7:0];
  // a read's two words, from its byte offset on
  wire [127:0] words = {m_rdata, e_lo};
  wire [PORT_BITS-1:0] window = words[8 * e_lane +: PORT_BITS];
  assign imem_valid = e_state == E_R3 && e_kind == K_IMEM;
  assign imem_data = words;
  assign rd_valid = e_state == E_R3 && e_kind == K_READ;
  assign rd_data = window;

  always @(posedge clk) begin
    u_done <= 1'b0;
    if (rst) begin
      e_state <= E_IDLE;
      imem_count <= 3'd0;
    end else begin
      imem_count <= imem_count + {2'd0, imem_req} - {2'd0, take_imem};
      if (imem_req && (imem_count == 3'd0 || (imem_count == 3'd1 && take_imem))) imem_next <= imem_addr[ADDR_BITS-1:0];
      else if (take_imem) imem_next <= imem_next + {{(ADDR_BITS - 5){1'b0}}, 5'd16};
      case (e_state)
        E_IDLE: begin
          e_kind <= take_uart ? K_UART : take_imem ? K_IMEM : take_write ? K_WRITE : K_READ;
          e_addr <= take_uart ? c_addr[ADDR_BITS-1:3] : take_imem ? imem_next[ADDR_BITS-1:3] : take_write ? wr_addr[ADDR_BITS-1:3]
                                                                                          : rd_addr[ADDR_BITS-1:3];
          e_lane <= take_uart ? c_addr[2:0] : take_imem ? 3'd0 : take_write ? wr_addr[2:0] : rd_addr[2:0];
          if ((take_uart && u_we) || take_write) e_state <= E_W1;
          else if (take_uart || take_imem || take_read) e_state <= E_R1;
        end
        E_R1: e_state <= E_R2;  // the first word is read at this edge
        E_R2: begin
          e_lo <= m_rdata;
          e_state <= E_R3;
        end
        E_R3: begin  // m_rdata: the second word (instructions and read beats are answered now)
          e_state <= E_IDLE;
          if (e_kind == K_UART) begin
            u_done <= 1'b1;
            u_rdata <= window[7:0];
          end
        end
        E_W1: e_state <= E_W2;
        default: begin  // E_W2: the second word is written at this edge
          if (e_kind == K_UART) u_done <= 1'b1;
          e_state <= E_IDLE;
        end
      endcase
    end
  end

  // ---- command handling ---------------------------------------------------------------------------------------
  always @(posedge clk) begin
    start <= 1'b0;
    tx_load <= 1'b0;
    if (rst) begin
      c_state <= C_HEADER;
      c_count <= 3'd0;
      u_req <= 1'b0;
      running <= 1'b0;
      cycles <= 32'd0;
    end else begin
      if (running) cycles <= cycles + 32'd1;
      if (running && done && !start) running <= 1'b0;  // (done is cleared at the edge after start)
      if (take_uart) u_req <= 1'b0;
      case (c_state)
        C_HEADER: if (rx_strobe) begin
          case (c_count)
            3'd0: c_cmd <= rx_shift;
            3'd1: c_addr[23:16] <= rx_shift;
            3'd2: c_addr[15:8] <= rx_shift;
            3'd3: c_addr[7:0] <= rx_shift;
            3'd4: c_len[15:8] <= rx_shift;
            default: c_len[7:0] <= rx_shift;
          endcase
          c_count <= c_count == 3'd5 ? 3'd0 : c_count + 3'd1;
          if (c_count == 3'd5) begin
            case (c_cmd)
              "W": c_state <= {c_len[15:8], rx_shift} == 16'd0 ? C_ACK : C_WRITE;
              "R": c_state <= {c_len[15:8], rx_shift} == 16'd0 ? C_HEADER : C_READ;
              "G": begin
                start <= 1'b1;
                prog_addr <= c_addr;
                running <= 1'b1;
                cycles <= 32'd0;
                c_state <= C_ACK;
              end
              "S": begin
                c_sent <= 3'd0;
                c_state <= C_STATUS;
              end
              default: c_state <= C_HEADER;
            endcase
          end
        end
        C_WRITE: begin  // a byte at a time through the engine
          if (rx_strobe) begin
            u_req <= 1'b1;
            u_we <= 1'b1;
            u_wdata <= rx_shift;
          end
          if (u_done) begin
            c_addr <= c_addr + 24'd1;
            c_len <= c_len - 16'd1;
            if (c_len == 16'd1) c_state <= C_ACK;
          end
        end
        C_READ: if (tx_free && !u_req) begin
          u_req <= 1'b1;
          u_we <= 1'b0;
          c_state <= C_READ_WAIT;
        end
        C_READ_WAIT: if (u_done) begin
          tx_byte <= u_rdata;
          tx_load <= 1'b1;
          c_addr <= c_addr + 24'd1;
          c_len <= c_len - 16'd1;
          c_state <= c_len == 16'd1 ? C_HEADER : C_READ;
        end
        C_STATUS: if (tx_free) begin
          tx_load <= 1'b1;
          case (c_sent)
            3'd0: tx_byte <= {5'd0, error, done, running};
            3'd1: tx_byte <= cycles[7:0];
            3'd2: tx_byte <= cycles[15:8];
            3'd3: tx_byte <= cycles[23:16];
            default: tx_byte <= cycles[31:24];
          endcase
          c_sent <= c_sent + 3'd1;
          if (c_sent == 3'd4) c_state <= C_HEADER;
        end
        default: if (tx_free) begin  // C_ACK
          tx_byte <= "K";
          tx_load <= 1'b1;
          c_state <= C_HEADER;
        end
      endcase
    end
  end

  assign led_done = (done && !error) ^ (LED_ACTIVE_LOW != 0);
  assign led_error = error ^ (LED_ACTIVE_LOW != 0);
endmodule

`default_nettype wire
