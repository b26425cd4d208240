"""Configuration text for the haproxy and nginx chains and the two-relay floor.

Each proxy is one process with one worker (haproxy `nbthread 1`, nginx `master_process off`), so
its CPU and RSS are read from one pid, like a one-shard ringsided. Every hop keeps its upstream
connections open (haproxy `http-reuse always`, nginx `keepalive`), as ringside's peer pool does.
"""


def haproxy_config(listen_port: int, next_port: int, mode: str) -> str:
    """mode: "http" (HTTP/1.1 in and out), "h2c" (gRPC: HTTP/2 prior knowledge both sides) or
    "tcp" (a zero-work L4 relay: the floor)."""
    h2 = " proto h2" if mode == "h2c" else ""  # on the listener and on the server line
    proxy_mode = "tcp" if mode == "tcp" else "http"
    # Only failed requests are logged (dontlog-normal), to stderr, which bench/compare keeps.
    return f"""global
  nbthread 1
  maxconn 4000
  log stderr format raw local0
defaults
  mode {proxy_mode}
  log global
  option {"tcplog" if proxy_mode == "tcp" else "httplog"}
  option dontlog-normal
  timeout connect 5s
  timeout client 120s
  timeout server 120s
{"  http-reuse always" if proxy_mode == "http" else ""}
frontend front
  bind 127.0.0.1:{listen_port}{h2}
  default_backend next
backend next
  server next 127.0.0.1:{next_port}{h2}
"""


def nginx_config(work_dir: str, name: str, listen_port: int, next_port: int, mode: str) -> str:
    """mode: "http" (proxy_pass over HTTP/1.1 keep-alive) or "h2c" (listen http2, grpc_pass)."""
    temp = f"{work_dir}/{name}-temp"
    if mode == "h2c":
        listen = f"listen 127.0.0.1:{listen_port} http2;"
        forward = "grpc_pass grpc://next;"
    else:
        listen = f"listen 127.0.0.1:{listen_port};"
        forward = 'proxy_pass http://next; proxy_http_version 1.1; proxy_set_header Connection "";'
    return f"""master_process off;
daemon off;
worker_processes 1;
pid {work_dir}/{name}.pid;
error_log {work_dir}/{name}.err warn;
events {{ worker_connections 4000; }}
http {{
  access_log off;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  client_max_body_size 0;
  client_body_buffer_size 1m;
  keepalive_requests 10000000;
  upstream next {{ server 127.0.0.1:{next_port}; keepalive 128; keepalive_requests 10000000; }}
  server {{
    {listen}
    location / {{ {forward} }}
  }}
}}
"""
