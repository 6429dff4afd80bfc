/* serial: the only code that knows how a port is opened (libserialport, or termios for ptys). */
#ifndef SIMROUTED_SERIAL_H
#define SIMROUTED_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

struct serial_port;

/* Open `path` (symlinks are followed) non-blocking, raw, 8N1, `baud`, no flow control.
 * Ports with a sysfs entry go through libserialport; others (ptys, socat links) through termios.
 * Returns NULL and fills err on failure. */
struct serial_port *serial_open(const char *path, int baud, char *err, size_t errlen);
int serial_fd(const struct serial_port *sp);
bool serial_is_libserialport(const struct serial_port *sp);
const char *serial_path(const struct serial_port *sp);
/* Non-blocking write/read on the fd: like write(2)/read(2). */
long serial_write(struct serial_port *sp, const void *buf, size_t len);
long serial_read(struct serial_port *sp, void *buf, size_t len);
void serial_close(struct serial_port *sp);

#endif
