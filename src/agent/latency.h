/*
 * agent/latency: function and HTTP request latency in the agent, only when
 * configured (`funclat = PATTERN ...`, `http = true`): one funclat
 * collector for the patterns and one for net/http.serverHandler.ServeHTTP,
 * attached to each tracked process whose binary has them (at most
 * funclat-max-funcs functions a process), read each interval into
 * counters that only grow, and rendered as Prometheus families with
 * goscope's own probe cost.
 */
#ifndef GOSCOPE_AGENT_LATENCY_H
#define GOSCOPE_AGENT_LATENCY_H

#include <stdbool.h>
#include <sys/types.h>

struct agent_config;
struct agent_lat;
struct promtext;
struct target;

/* NULL when neither is configured, or when the collectors cannot load (said on stderr). */
struct agent_lat *agent_lat_open(const struct agent_config *cfg);
void agent_lat_close(struct agent_lat *f);

/* Probe T (its binary's matches) if it has what is configured; EXE, GO_VERSION: its labels. */
void agent_lat_take(struct agent_lat *f, struct target *t, const char *exe, const char *go_version);
void agent_lat_drop(struct agent_lat *f, struct target *t);

/* Read the window of SECONDS into the counters (and warn once when the probes cost much). */
void agent_lat_collect(struct agent_lat *f, double seconds);

void agent_lat_render(struct agent_lat *f, struct promtext *pt);

/*
 * Into the JSON object of process PID being written to W: "funcs": {NAME:
 * {"calls", "unwound", "timed", "seconds"}} and "http": {"METHOD ROUTE":
 * {"requests", "seconds", "status": {CODE: N}}}, when probed.
 */
struct jsonw;
void agent_lat_json(struct agent_lat *f, struct jsonw *w, pid_t pid);

#endif
