/* cli_pdu: `simroute pdu [encode|decode]` - SMS PDU encoder/decoder speaking JSON lines on stdin/stdout. */
#ifndef SIMROUTE_CLI_PDU_H
#define SIMROUTE_CLI_PDU_H

/* argv[0] = "pdu", argv[1] = "encode" | "decode" | absent (every line says its own "op" anyway).
 * Reads JSON objects one per line from stdin, answers one JSON line each on stdout; a line that
 * cannot be handled gets {"error": "..."}. Returns 0 at end of input. */
int cli_pdu_main(int argc, char **argv);

#endif
