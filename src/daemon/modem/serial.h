/* serial: the only code that knows how a port is opened (libserialport, or termios for ptys). */
#ifndef SIMROUTED_SERIAL_H
#define SIMROUTED_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

struct serial_port;

/* Open `path` (symlinks are followed) non-blocking, raw, 8N1, `baud`, no flow control, exclusive
 * (flock LOCK_EX|LOCK_NB on the device, plus TIOCEXCL): a port another program holds is refused with
 * "in use by another program" in err. Ports with a sysfs entry go through libserialport; others
 * (ptys, socat links) through termios. Returns NULL and fills err on failure. */
struct serial_port *serial_open(const char *path, int baud, char *err, size_t errlen);
int serial_fd(const struct serial_port *sp);
bool serial_is_libserialport(const struct serial_port *sp);
const char *serial_path(const struct serial_port *sp);
/* Non-blocking write/read on the fd: like write(2)/read(2). */
long serial_write(struct serial_port *sp, const void *buf, size_t len);
long serial_read(struct serial_port *sp, void *buf, size_t len);
void serial_close(struct serial_port *sp);
/* The configured path no longer exists, or now names another device than the one we opened (an
 * unplug the fd has not reported yet). */
bool serial_gone(const struct serial_port *sp);
/* The last rung of recovery: reset the USB device behind `path` (USBDEVFS_RESET on
 * /dev/bus/usb/BBB/DDD found through libserialport). Returns 1 reset, 0 skipped (a pty, a link, not
 * USB), -1 failed; err says what happened either way. Closing the port first is the caller's job. */
int serial_usb_reset(const char *path, char *err, size_t errlen);

#endif
