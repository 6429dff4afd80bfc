/* ui_assets: the dashboard's files (src/ui/), turned into C arrays by the Makefile at build time. */
#ifndef SIMROUTED_UI_ASSETS_H
#define SIMROUTED_UI_ASSETS_H

#include <stddef.h>

struct ui_asset {
	const char *name;             /* file name, e.g. "app.js" */
	const unsigned char *data;
	size_t len;
};

extern const struct ui_asset ui_assets[];
extern const size_t ui_nassets;

#endif
