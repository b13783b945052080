/* synack: a userspace TCP/IP stack with a built-in TLS engine. Umbrella header. */
#ifndef SYNACK_SYNACK_H
#define SYNACK_SYNACK_H
#include "synack/types.h"
#include "synack/stack.h"
#include "synack/tcp.h"
#include "synack/link.h"
#include "synack/impair.h"
#include "synack/sim.h"
#include "synack/socket.h"
#define SYNACK_VERSION "0.1.0"
#endif
