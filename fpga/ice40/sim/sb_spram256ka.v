// Simulation model of the iCE40 UP5K single-port RAM SB_SPRAM256KA (16K x 16) as faq_board uses it: a registered
// read (DATAOUT holds the word addressed at the last clock edge without WREN, and keeps it through writes), writes
// masked by nibble (MASKWREN). Power-saving inputs are not modelled. For Verilator and Icarus; synthesis takes the
// primitive from the Yosys iCE40 library.
`default_nettype none
/* verilator lint_off DECLFILENAME */  // the primitive's name
module SB_SPRAM256KA (
  input wire [13:0] ADDRESS,
  input wire [15:0] DATAIN,
  input wire [3:0] MASKWREN,
  input wire WREN,
  input wire CHIPSELECT,
  input wire CLOCK,
  /* verilator lint_off UNUSEDSIGNAL */
  input wire STANDBY,
  input wire SLEEP,
  input wire POWEROFF,
  /* verilator lint_on UNUSEDSIGNAL */
  output reg [15:0] DATAOUT
);
  reg [15:0] mem [0:16383];
  integer n;
  always @(posedge CLOCK) begin
    if (CHIPSELECT) begin
      if (!WREN) begin
        DATAOUT <= mem[ADDRESS];
      end else begin
        for (n = 0; n < 4; n = n + 1)
          if (MASKWREN[n]) mem[ADDRESS][4*n +: 4] <= DATAIN[4*n +: 4];
      end
    end
  end
endmodule
`default_nettype wire
