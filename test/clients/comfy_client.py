#!/usr/bin/env python3
"""A minimal ComfyUI API client, written for reelgraph's tests, speaking the protocol the way ComfyUI's
example scripts do: websocket-client (Debian's python3-websocket) and urllib only.

Usage: comfy_client.py HOST:PORT PROMPT.json OUTPUT_DIR
Connects /ws?clientId=..., POSTs /prompt, waits for `executing` with node null for its prompt, reads
/history/{id}, fetches every output with /view and prints a JSON summary on stdout.
"""
import json
import os
import sys
import urllib.parse
import urllib.request
import uuid

import websocket


def queue_prompt(server, prompt, client_id):
    body = json.dumps({"prompt": prompt, "client_id": client_id}).encode("utf-8")
    request = urllib.request.Request(f"http://{server}/prompt", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def get_json(server, path):
    with urllib.request.urlopen(f"http://{server}{path}", timeout=30) as response:
        return json.loads(response.read())


def get_file(server, filename, subfolder, folder_type):
    query = urllib.parse.urlencode({"filename": filename, "subfolder": subfolder, "type": folder_type})
    with urllib.request.urlopen(f"http://{server}/view?{query}", timeout=60) as response:
        return response.read()


def main():
    server, prompt_path, output_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(prompt_path, encoding="utf-8") as handle:
        prompt = json.load(handle)
    client_id = str(uuid.uuid4())
    ws = websocket.WebSocket()
    ws.settimeout(120)
    ws.connect(f"ws://{server}/ws?clientId={client_id}")
    seen = []
    try:
        prompt_id = queue_prompt(server, prompt, client_id)["prompt_id"]
        while True:
            frame = ws.recv()
            if not isinstance(frame, str):
                continue  # binary previews
            message = json.loads(frame)
            seen.append(message["type"])
            data = message.get("data", {})
            if message["type"] == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id:
                break
    finally:
        ws.close()
    history = get_json(server, f"/history/{prompt_id}")[prompt_id]
    saved = []
    for node_id, output in history["outputs"].items():
        for item in output.get("images", []):
            data = get_file(server, item["filename"], item["subfolder"], item["type"])
            path = os.path.join(output_dir, item["filename"])
            with open(path, "wb") as handle:
                handle.write(data)
            saved.append({"node": node_id, "path": path, "bytes": len(data)})
    print(json.dumps({"prompt_id": prompt_id, "status": history["status"]["status_str"], "messages": seen, "saved": saved}))


if __name__ == "__main__":
    main()
