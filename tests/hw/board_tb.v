// The board top (fpga/ice40/faq_board.v) for simulation: no PLL, and a UART of 4 clock cycles per bit.
`define FAQ_BOARD_SIM
`default_nettype none
module faq_board_tb (
  input wire clk,
  input wire uart_rx,
  output wire uart_tx,
  output wire led_red_n,
  output wire led_green_n
);
  faq_board #(.PORT_BITS(16), .CLK_HZ(4), .BAUD(1)) board (
    .clk_12m(clk), .uart_rx(uart_rx), .uart_tx(uart_tx), .led_red_n(led_red_n), .led_green_n(led_green_n));
endmodule
`default_nettype wire
