// The board top (fpga/ice40/faq_board.v) for simulation: no PLL, and a UART of 4 clock cycles per bit.
// faq_board_tb: the iCEBreaker's (SPRAM, 128 KiB, LEDs active low); faq_board_bram_tb: the HX8K breakout's (block
// RAM, 4 KiB, LEDs active high).
`define FAQ_BOARD_SIM
`default_nettype none
module faq_board_tb (
  input wire clk,
  input wire uart_rx,
  output wire uart_tx,
  output wire led_error,
  output wire led_done
);
  faq_board #(.PORT_BITS(16), .CLK_HZ(4), .BAUD(1)) board (
    .clk_12m(clk), .uart_rx(uart_rx), .uart_tx(uart_tx), .led_error(led_error), .led_done(led_done));
endmodule

module faq_board_bram_tb (
  input wire clk,
  input wire uart_rx,
  output wire uart_tx,
  output wire led_error,
  output wire led_done
);
  faq_board #(.PORT_BITS(16), .ADDR_BITS(12), .SPRAM(0), .LED_ACTIVE_LOW(0), .CLK_HZ(4), .BAUD(1)) board (
    .clk_12m(clk), .uart_rx(uart_rx), .uart_tx(uart_tx), .led_error(led_error), .led_done(led_done));
endmodule
`default_nettype wire
