#!/usr/bin/env python3
"""Save-to-reload latency of `atelier serve`.

Usage: serve-latency.py ATELIER_BIN PROJECT_DIR [EDITS]

Starts the preview server on PROJECT_DIR, listens to its Server-Sent Events
like a browser tab, then edits one page EDITS times (default 20), alternating
a body edit and a title edit (a title shows in navigation, agenda and print
page too). For each edit it measures the time from the write to the `reload`
event (debounce included), then checks that the served page, and for a title
edit its neighbour's navigation, show the edit; after the last edit, the
print page too (made when first asked for). Prints p50 and p95.
"""
import glob
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read().decode("utf-8", "replace")


def main():
    binary, project = sys.argv[1], sys.argv[2]
    edits = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    port = free_port()
    server = subprocess.Popen(
        [binary, "--root", project, "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in server.stdout:
            if line.startswith("Serving http://"):
                port = int(line.split(":")[2].split("/")[0])
                break
        events = socket.create_connection(("127.0.0.1", port))
        events.sendall(b"GET /__atelier/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        stream = events.makefile("rb")

        def wait_for(name, deadline=120):
            start = time.time()
            current = None
            while time.time() - start < deadline:
                line = stream.readline().decode("utf-8", "replace").strip()
                if line.startswith("event: "):
                    current = line[7:]
                elif line.startswith("data: ") and current == name:
                    # Participant pages reload on events not limited to the
                    # facilitator version (`{"only": "_facilitator/"}`).
                    if '"only"' not in line:
                        return
            raise SystemExit(f"no {name} event")

        wait_for("hello")
        steps = sorted(glob.glob(os.path.join(project, "content/modules/*/0[2-9]-*.md")))
        target = steps[len(steps) // 2]
        original = open(target, encoding="utf-8").read()
        latencies = []
        by_kind = {"body": [], "title": []}
        try:
            for i in range(edits):
                title_edit = i % 2 == 1
                marker = f"Edition {i} mesuree"
                if title_edit:
                    text = original.replace("title: ", f"title: {marker} ", 1)
                else:
                    text = original + f"\n\n{marker}.\n"
                start = time.perf_counter()
                with open(target, "w", encoding="utf-8") as f:
                    f.write(text)
                wait_for("reload")
                latencies.append((time.perf_counter() - start) * 1000)
                by_kind["title" if title_edit else "body"].append(latencies[-1])
                rel = os.path.relpath(target, os.path.join(project, "content"))
                module_dir, name = rel.split("/")[1], rel.split("/")[2][:-3]
                # URLs drop the number prefix unless siblings collide without it.
                modules = [module_dir.split("-", 1)[1], module_dir]
                pages = [name.split("-", 1)[1], name]
                body, module_url = "", None
                for m in modules:
                    for p in pages:
                        status, body = get(port, f"/modules/{m}/{p}/")
                        if status == 200:
                            module_url = f"/modules/{m}/"
                            break
                    if module_url:
                        break
                if marker not in body:
                    raise SystemExit(f"edit {i}: the served page does not show the edit")
                if title_edit:
                    status, landing = get(port, module_url)
                    if marker not in landing:
                        raise SystemExit(f"edit {i}: the module's table of steps does not show the new title")
                if i == edits - 1:
                    # The print page is made when first asked for, from the
                    # build being served: it must show the last edit too.
                    status, printed = get(port, "/print/")
                    if status != 200 or marker not in printed:
                        raise SystemExit(f"edit {i}: the print page does not show the edit")
                # Saves come seconds apart when someone writes; leave the server
                # time to finish the facilitator version of the last save.
                time.sleep(1.0)
        finally:
            with open(target, "w", encoding="utf-8") as f:
                f.write(original)
        latencies.sort()
        p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
        print(f"{len(latencies)} edits: p50 {statistics.median(latencies):.1f} ms, "
              f"p95 {p95:.1f} ms, min {latencies[0]:.1f} ms, max {latencies[-1]:.1f} ms "
              f"(p50 of body edits {statistics.median(by_kind['body']):.1f} ms, "
              f"of title edits {statistics.median(by_kind['title'] or [0]):.1f} ms)")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
