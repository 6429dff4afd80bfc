/* serial: the only code that knows how a port is opened (libserialport, or termios for ptys). */
#include "modem/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <linux/usbdevice_fs.h>

#include <libserialport.h>

#include "simroute/log.h"

struct serial_port {
	char *path;               /* as configured, for logs */
	int fd;
	struct sp_port *sp;       /* NULL on the termios path */
	bool sp_opened;           /* sp_open succeeded: sp_close owns the fd */
	bool exclusive;           /* we hold the flock and set TIOCEXCL: ours to clear on close */
	dev_t rdev;               /* the device we opened, to notice the path now names another (or none) */
};

/* libserialport 0.1.1 finds ports through /sys/class/tty/<name>; ptys and socat links have none. */
static bool has_sysfs_entry(const char *real)
{
	char tmp[PATH_MAX], sys[PATH_MAX + 32];
	struct stat st;

	snprintf(tmp, sizeof(tmp), "%s", real);
	snprintf(sys, sizeof(sys), "/sys/class/tty/%s", basename(tmp));
	return stat(sys, &st) == 0;
}

static speed_t baud_to_speed(int baud)
{
	switch (baud) {
	case 9600: return B9600;
	case 19200: return B19200;
	case 38400: return B38400;
	case 57600: return B57600;
	case 115200: return B115200;
	case 230400: return B230400;
	case 460800: return B460800;
	case 921600: return B921600;
	default: return 0;
	}
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Both paths end here: non-blocking, close-on-exec, exclusive, stale input dropped. */
static int finish_fd(struct serial_port *p, char *err, size_t errlen)
{
	int fd = p->fd, fl = fcntl(fd, F_GETFL);
	struct stat st;

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		set_err(err, errlen, "%s: fcntl: %s", p->path, strerror(errno));
		return -1;
	}
	fl = fcntl(fd, F_GETFD);
	if (fl != -1)
		(void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	/* Two programs talking AT on one port corrupt each other's replies (ModemManager, a second
	 * simrouted, minicom). An advisory lock on the device says "taken" to anyone who asks, root
	 * included (TIOCEXCL does not stop root); the lock dies with our fd, even after a crash. */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			set_err(err, errlen, "%s: in use by another program (locked)", p->path);
		else
			set_err(err, errlen, "%s: flock: %s", p->path, strerror(errno));
		return -1;
	}
	/* ...and TIOCEXCL makes a second non-root open fail outright. */
	(void)ioctl(fd, TIOCEXCL);
	p->exclusive = true;
	if (fstat(fd, &st) == 0)
		p->rdev = st.st_rdev;
	/* Whatever the modem said before we opened belongs to nobody. */
	(void)tcflush(fd, TCIOFLUSH);
	return 0;
}

static int open_termios(struct serial_port *p, const char *real, int baud, char *err, size_t errlen)
{
	struct termios t;
	speed_t sp = baud_to_speed(baud);

	if (!sp) {
		set_err(err, errlen, "%s: unsupported baud rate %d", p->path, baud);
		return -1;
	}
	p->fd = open(real, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (p->fd == -1) {
		if (errno == EBUSY)   /* another program set TIOCEXCL */
			set_err(err, errlen, "%s: in use by another program (exclusive)", p->path);
		else
			set_err(err, errlen, "%s: %s", p->path, strerror(errno));
		return -1;
	}
	if (tcgetattr(p->fd, &t) == -1) {
		set_err(err, errlen, "%s: not a terminal: %s", p->path, strerror(errno));
		return -1;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cflag &= ~(CSTOPB | CRTSCTS | PARENB);
	t.c_iflag &= ~(IXON | IXOFF | IXANY);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, sp);
	cfsetospeed(&t, sp);
	if (tcsetattr(p->fd, TCSANOW, &t) == -1) {
		set_err(err, errlen, "%s: tcsetattr: %s", p->path, strerror(errno));
		return -1;
	}
	if (finish_fd(p, err, errlen) == -1)
		return -1;
	log_info("serial %s: no sysfs entry (pty or link), opened with termios", p->path);
	return 0;
}

static int sp_fail(struct serial_port *p, const char *what, char *err, size_t errlen)
{
	char *msg = sp_last_error_message();

	set_err(err, errlen, "%s: %s: %s", p->path, what, msg ? msg : "libserialport error");
	if (msg)
		sp_free_error_message(msg);
	return -1;
}

static int open_libserialport(struct serial_port *p, const char *real, int baud, char *err, size_t errlen)
{
	if (sp_get_port_by_name(real, &p->sp) != SP_OK) {
		p->sp = NULL;
		return sp_fail(p, "sp_get_port_by_name", err, errlen);
	}
	if (sp_open(p->sp, SP_MODE_READ_WRITE) != SP_OK)
		return sp_fail(p, "sp_open", err, errlen);
	p->sp_opened = true;
	if (sp_set_baudrate(p->sp, baud) != SP_OK || sp_set_bits(p->sp, 8) != SP_OK ||
	    sp_set_parity(p->sp, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(p->sp, 1) != SP_OK ||
	    sp_set_flowcontrol(p->sp, SP_FLOWCONTROL_NONE) != SP_OK)
		return sp_fail(p, "configure", err, errlen);
	if (sp_get_port_handle(p->sp, &p->fd) != SP_OK)
		return sp_fail(p, "sp_get_port_handle", err, errlen);
	return finish_fd(p, err, errlen);
}

struct serial_port *serial_open(const char *path, int baud, char *err, size_t errlen)
{
	struct serial_port *p;
	char real[PATH_MAX];
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (baud <= 0)
		baud = 115200;
	/* /dev/simroute/<name> links (udev) and socat links point at the real node. */
	if (!realpath(path, real)) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!(p = calloc(1, sizeof(*p))) || !(p->path = strdup(path))) {
		free(p);
		set_err(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	p->fd = -1;
	if (has_sysfs_entry(real))
		rc = open_libserialport(p, real, baud, err, errlen);
	else
		rc = open_termios(p, real, baud, err, errlen);
	if (rc == -1) {
		serial_close(p);
		return NULL;
	}
	log_debug("serial %s: open fd %d (%s, %d baud)", p->path, p->fd, p->sp ? "libserialport" : "termios",
		  baud);
	return p;
}

int serial_fd(const struct serial_port *p) { return p->fd; }
bool serial_is_libserialport(const struct serial_port *p) { return p->sp != NULL; }
const char *serial_path(const struct serial_port *p) { return p->path; }

long serial_write(struct serial_port *p, const void *buf, size_t len)
{
	return (long)write(p->fd, buf, len);
}

long serial_read(struct serial_port *p, void *buf, size_t len)
{
	return (long)read(p->fd, buf, len);
}

void serial_close(struct serial_port *p)
{
	if (!p)
		return;
	/* The exclusive flag lives on the tty, not the fd: if someone else holds the port open (gsmsim
	 * keeps its pty slaves open), it would outlive us and lock our own reopen out. Only ours to clear:
	 * a port we were refused belongs to whoever set it. */
	if (p->fd != -1 && p->exclusive)
		(void)ioctl(p->fd, TIOCNXCL);
	if (p->sp) {
		/* sp_close closes the fd it handed out. */
		if (p->sp_opened)
			(void)sp_close(p->sp);
		sp_free_port(p->sp);
	} else if (p->fd != -1) {
		close(p->fd);
	}
	free(p->path);
	free(p);
}

bool serial_gone(const struct serial_port *p)
{
	struct stat st;

	/* a USB modem unplugged takes its node (and its udev link) with it; a re-plugged one may come
	 * back under the same name as another device */
	if (stat(p->path, &st) == -1)
		return errno == ENOENT || errno == ENOTDIR;
	return p->rdev && st.st_rdev != p->rdev;
}

int serial_usb_reset(const char *path, char *err, size_t errlen)
{
	char real[PATH_MAX], dev[64];
	struct sp_port *sp = NULL;
	int bus = -1, addr = -1, fd, rc;

	if (err && errlen)
		err[0] = '\0';
	if (!realpath(path, real)) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!has_sysfs_entry(real)) {
		set_err(err, errlen, "%s: not a USB device (no sysfs entry: pty or link)", path);
		return 0;
	}
	if (sp_get_port_by_name(real, &sp) != SP_OK) {
		set_err(err, errlen, "%s: not a USB device (libserialport does not know it)", path);
		return 0;
	}
	if (sp_get_port_transport(sp) != SP_TRANSPORT_USB || sp_get_port_usb_bus_address(sp, &bus, &addr) != SP_OK) {
		sp_free_port(sp);
		set_err(err, errlen, "%s: not a USB device", path);
		return 0;
	}
	sp_free_port(sp);
	snprintf(dev, sizeof(dev), "/dev/bus/usb/%03d/%03d", bus, addr);
	if ((fd = open(dev, O_WRONLY | O_CLOEXEC)) == -1) {
		set_err(err, errlen, "%s: %s: %s", path, dev, strerror(errno));
		return -1;
	}
	/* the kernel re-enumerates the device: its ttys vanish and come back (udev links follow) */
	rc = ioctl(fd, USBDEVFS_RESET, 0);
	if (rc == -1)
		set_err(err, errlen, "%s: USBDEVFS_RESET on %s: %s", path, dev, strerror(errno));
	else
		set_err(err, errlen, "%s: reset USB device %s", path, dev);
	close(fd);
	return rc == -1 ? -1 : 1;
}
