/*
 * version.h: the one version string, for --version, the start-up line
 * and caps.txt.
 */
#ifndef KAPSULA_VERSION_H
#define KAPSULA_VERSION_H

#define KAPSULA_VERSION "0.2.0"

#endif
