// openapi.cc — the OpenAPI 3.1 document served at /openapi.json. A test
// walks it against routes() both ways, so a route added without its entry
// (or the reverse) fails the build's tests.
//
// The status codes listed are the ones the handlers (api_agents.cc,
// api_watch.cc, api.cc) and the HTTP server (bearer auth 401, body cap 413)
// really return. Shared parameters, responses and schemas live under
// `components` and are referenced, so each path reads in a few lines.
#include "cp/api.h"

namespace fracta::cp {
namespace {

constexpr const char* kDocument = R"json({
  "openapi": "3.1.0",
  "info": {
    "title": "fracta control plane",
    "version": "",
    "description": "The HTTP API of fracta-cp: spawn coding agents, follow them, talk to them, merge their work. Errors are {\"error\": \"…\"} with a proper status. When control_plane_api.token (or FRACTA_CP_TOKEN) is set, every /api/v1 route needs Authorization: Bearer <token>; /healthz, /readyz, /metrics and /openapi.json stay open."
  },
  "paths": {
    "/healthz": {
      "get": {
        "operationId": "healthz",
        "summary": "Liveness: the process answers (no dependency checks)",
        "tags": ["operations"],
        "responses": {
          "200": { "description": "Alive", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Health" } } } }
        }
      }
    },
    "/readyz": {
      "get": {
        "operationId": "readyz",
        "summary": "Readiness: the store answers and the process is not draining",
        "tags": ["operations"],
        "responses": {
          "200": { "description": "Ready ({\"status\":\"ready\"})", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Health" } } } },
          "503": { "description": "Draining after SIGTERM, or the store does not answer ({\"status\":\"draining\"} or {\"status\":\"unavailable\",\"error\":\"…\"})", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Health" } } } }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "summary": "Prometheus text exposition (fracta_up, fracta_agents, fracta_missions, fracta_workers, fracta_http_requests_total, …)",
        "tags": ["operations"],
        "responses": {
          "200": { "description": "Metrics, text format 0.0.4", "content": { "text/plain": { "schema": { "type": "string" } } } }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document",
        "tags": ["operations"],
        "responses": {
          "200": { "description": "The OpenAPI 3.1 document of this API", "content": { "application/json": { "schema": { "type": "object" } } } }
        }
      }
    },
    "/api/v1/agents": {
      "post": {
        "operationId": "spawnAgent",
        "summary": "Spawn an agent: record it as Queued and enqueue its mission",
        "tags": ["agents"],
        "security": [{ "bearer": [] }],
        "requestBody": {
          "required": true,
          "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SpawnRequest" } } }
        },
        "responses": {
          "201": { "description": "Queued", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SpawnResponse" } } } },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "409": { "description": "agent \"x\" already exists", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      },
      "get": {
        "operationId": "listAgents",
        "summary": "List agents, optionally of one status",
        "tags": ["agents"],
        "security": [{ "bearer": [] }],
        "parameters": [
          { "name": "status", "in": "query", "required": false, "description": "Only agents with this status", "schema": { "$ref": "#/components/schemas/Status" } }
        ],
        "responses": {
          "200": {
            "description": "The agents",
            "content": { "application/json": { "schema": {
              "type": "object", "required": ["agents"],
              "properties": { "agents": { "type": "array", "items": { "$ref": "#/components/schemas/Agent" } } }
            } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/agents/{task}": {
      "parameters": [{ "$ref": "#/components/parameters/Task" }],
      "get": {
        "operationId": "getAgent",
        "summary": "One agent",
        "tags": ["agents"],
        "security": [{ "bearer": [] }],
        "responses": {
          "200": {
            "description": "The agent",
            "content": { "application/json": { "schema": {
              "type": "object", "required": ["agent"],
              "properties": { "agent": { "$ref": "#/components/schemas/Agent" } }
            } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      },
      "delete": {
        "operationId": "killAgent",
        "summary": "Kill an agent: cancel its mission, stop its session, mark it Stopped, remove its worktree unless keep_files",
        "tags": ["agents"],
        "security": [{ "bearer": [] }],
        "requestBody": {
          "required": false,
          "content": { "application/json": { "schema": {
            "type": "object",
            "properties": { "keep_files": { "type": "boolean", "default": false, "description": "Keep the agent's worktree" } }
          } } }
        },
        "responses": {
          "200": {
            "description": "Stopped now ({agent, status: Stopped, keep_files}, and message \"worktree kept: ...\" when git would not remove it), or already ended ({agent, status, message: \"already ended\"})",
            "content": { "application/json": { "schema": {
              "type": "object", "required": ["agent", "status"],
              "properties": {
                "agent": { "type": "string" },
                "status": { "$ref": "#/components/schemas/Status" },
                "keep_files": { "type": "boolean" },
                "message": { "type": "string" }
              }
            } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "500": { "$ref": "#/components/responses/Internal" },
          "502": { "description": "The agent is Stopped, but the provider failed to stop its session", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/agents/{task}/say": {
      "parameters": [{ "$ref": "#/components/parameters/Task" }],
      "post": {
        "operationId": "sayToAgent",
        "summary": "Send text to an agent: into a running stream session, else into its inbox",
        "tags": ["messages"],
        "security": [{ "bearer": [] }],
        "requestBody": {
          "required": true,
          "content": { "application/json": { "schema": {
            "type": "object", "required": ["message"],
            "properties": {
              "message": { "type": "string", "minLength": 1 },
              "from": { "type": "string", "default": "user", "description": "The sender, for inbox delivery" }
            }
          } } }
        },
        "responses": {
          "200": {
            "description": "Dispatched",
            "content": { "application/json": { "schema": {
              "type": "object", "required": ["status", "delivery"],
              "properties": {
                "status": { "const": "dispatched" },
                "delivery": { "enum": ["session", "inbox"] },
                "message_id": { "type": "integer", "description": "Inbox delivery only" }
              }
            } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "409": { "description": "The agent has ended", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "500": { "$ref": "#/components/responses/Internal" },
          "502": { "$ref": "#/components/responses/ProviderFailed" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/agents/{task}/peek": {
      "parameters": [{ "$ref": "#/components/parameters/Task" }],
      "get": {
        "operationId": "peekAgent",
        "summary": "The last lines of the agent's live session output",
        "tags": ["output"],
        "security": [{ "bearer": [] }],
        "parameters": [
          { "name": "lines", "in": "query", "required": false, "description": "How many lines (0: all)", "schema": { "type": "integer", "minimum": 0, "maximum": 1000000, "default": 50 } }
        ],
        "responses": {
          "200": { "$ref": "#/components/responses/Output" },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "500": { "$ref": "#/components/responses/Internal" },
          "502": { "$ref": "#/components/responses/ProviderFailed" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/agents/{task}/logs": {
      "parameters": [{ "$ref": "#/components/parameters/Task" }],
      "get": {
        "operationId": "agentLogs",
        "summary": "The tail of the agent's log (the session's, else its last output)",
        "tags": ["output"],
        "security": [{ "bearer": [] }],
        "parameters": [
          { "name": "lines", "in": "query", "required": false, "description": "How many lines; 0 or absent means 100", "schema": { "type": "integer", "minimum": 0, "maximum": 1000000, "default": 100 } }
        ],
        "responses": {
          "200": { "$ref": "#/components/responses/Output" },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "500": { "$ref": "#/components/responses/Internal" },
          "502": { "$ref": "#/components/responses/ProviderFailed" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/agents/{task}/merge": {
      "parameters": [{ "$ref": "#/components/parameters/Task" }],
      "post": {
        "operationId": "mergeAgent",
        "summary": "git merge --no-ff of the agent's branch into the project's current branch",
        "tags": ["agents"],
        "security": [{ "bearer": [] }],
        "responses": {
          "200": {
            "description": "Merged",
            "content": { "application/json": { "schema": {
              "type": "object", "required": ["status", "message"],
              "properties": {
                "status": { "const": "merged" },
                "message": { "type": "string" },
                "commit": { "type": "string", "description": "The merge commit" }
              }
            } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "409": {
            "description": "Conflict (the merge was aborted and the tree is clean; conflicts lists the files), git refused the merge, or the agent has no branch (the project is not in git)",
            "content": { "application/json": { "schema": {
              "allOf": [
                { "$ref": "#/components/schemas/Error" },
                { "type": "object", "properties": { "conflicts": { "type": "array", "items": { "type": "string" } } } }
              ]
            } } }
          },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/agents/{task}/events": {
      "parameters": [{ "$ref": "#/components/parameters/Task" }],
      "get": {
        "operationId": "agentEvents",
        "summary": "The agent's events (those whose subject is the task), oldest first",
        "tags": ["events"],
        "security": [{ "bearer": [] }],
        "parameters": [
          { "name": "last", "in": "query", "required": false, "description": "Only the newest N (0: all)", "schema": { "type": "integer", "minimum": 0, "maximum": 1000000, "default": 0 } },
          { "$ref": "#/components/parameters/AfterSeq" }
        ],
        "responses": {
          "200": {
            "description": "The events",
            "content": { "application/json": { "schema": {
              "type": "object", "required": ["events"],
              "properties": { "events": { "type": "array", "items": { "$ref": "#/components/schemas/Event" } } }
            } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      },
      "post": {
        "operationId": "postAgentEvents",
        "summary": "Record events about the agent; subject and actor default to the task, and events about anything else are dropped",
        "tags": ["events"],
        "security": [{ "bearer": [] }],
        "requestBody": {
          "required": true,
          "content": { "application/json": { "schema": {
            "type": "object", "required": ["events"],
            "properties": { "events": { "type": "array", "items": { "$ref": "#/components/schemas/Event" } } }
          } } }
        },
        "responses": {
          "202": {
            "description": "Counted: accepted were recorded, dropped were malformed or about another subject",
            "content": { "application/json": { "schema": {
              "type": "object", "required": ["accepted", "dropped"],
              "properties": { "accepted": { "type": "integer", "minimum": 0 }, "dropped": { "type": "integer", "minimum": 0 } }
            } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/agents/{task}/watch": {
      "parameters": [{ "$ref": "#/components/parameters/Task" }],
      "get": {
        "operationId": "watchAgent",
        "summary": "Server-sent events: a snapshot of the agent, then its events as they are recorded; ends once the agent has ended",
        "tags": ["events"],
        "security": [{ "bearer": [] }],
        "parameters": [
          { "$ref": "#/components/parameters/AfterSeq" },
          { "name": "Last-Event-ID", "in": "header", "required": false, "description": "Resume after this seq; takes precedence over after_seq", "schema": { "type": "integer", "minimum": 0 } }
        ],
        "responses": {
          "200": {
            "description": "An SSE stream. First `event: snapshot` with `data: <Agent JSON>`; then per event `id: <seq>`, `event: <type>`, `data: <Event JSON>`; `: ping` comments every 15 s of silence",
            "content": { "text/event-stream": { "schema": { "type": "string" } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/agents/{task}/wait": {
      "parameters": [{ "$ref": "#/components/parameters/Task" }],
      "get": {
        "operationId": "waitAgent",
        "summary": "Long poll until the agent has ended (Completed, Failed or Stopped)",
        "tags": ["agents"],
        "security": [{ "bearer": [] }],
        "parameters": [
          { "name": "timeout", "in": "query", "required": false, "description": "A duration up to 1h (500ms, 30s, 2m) or whole seconds", "schema": { "type": "string", "default": "30s" } }
        ],
        "responses": {
          "200": { "description": "The agent, ended (the Agent itself, not wrapped)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Agent" } } } },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "408": { "description": "Still not ended at the timeout", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/agents/{task}/inbox": {
      "parameters": [{ "$ref": "#/components/parameters/Task" }],
      "get": {
        "operationId": "agentInbox",
        "summary": "The agent's unread messages, oldest first; reading consumes them",
        "tags": ["messages"],
        "security": [{ "bearer": [] }],
        "responses": {
          "200": {
            "description": "The messages",
            "content": { "application/json": { "schema": {
              "type": "object", "required": ["messages"],
              "properties": { "messages": { "type": "array", "items": { "$ref": "#/components/schemas/Message" } } }
            } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/agents/{task}/intent": {
      "parameters": [{ "$ref": "#/components/parameters/Task" }],
      "post": {
        "operationId": "setAgentIntent",
        "summary": "Record what the agent is doing now (shown as current_intent) and an agent.intent event",
        "tags": ["agents"],
        "security": [{ "bearer": [] }],
        "requestBody": {
          "required": true,
          "content": { "application/json": { "schema": {
            "type": "object", "required": ["intent"],
            "properties": { "intent": { "type": "string", "maxLength": 4096 } }
          } } }
        },
        "responses": {
          "200": {
            "description": "Recorded",
            "content": { "application/json": { "schema": {
              "type": "object", "required": ["agent", "current_intent"],
              "properties": { "agent": { "$ref": "#/components/schemas/TaskName" }, "current_intent": { "type": "string" } }
            } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/messages": {
      "post": {
        "operationId": "sendMessage",
        "summary": "Leave a message in an agent's inbox",
        "tags": ["messages"],
        "security": [{ "bearer": [] }],
        "requestBody": {
          "required": true,
          "content": { "application/json": { "schema": {
            "type": "object", "required": ["from", "to", "message"],
            "properties": {
              "from": { "type": "string", "minLength": 1 },
              "to": { "$ref": "#/components/schemas/TaskName" },
              "message": { "type": "string", "minLength": 1 }
            }
          } } }
        },
        "responses": {
          "201": {
            "description": "Sent",
            "content": { "application/json": { "schema": {
              "type": "object", "required": ["id", "status"],
              "properties": { "id": { "type": "integer" }, "status": { "const": "sent" } }
            } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "$ref": "#/components/responses/Unauthorized" },
          "404": { "$ref": "#/components/responses/AgentNotFound" },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    },
    "/api/v1/auth/verify": {
      "post": {
        "operationId": "verifyToken",
        "summary": "For the gateway: does this token belong to this live agent, and which tools may it use",
        "tags": ["auth"],
        "security": [{ "bearer": [] }],
        "requestBody": {
          "required": true,
          "content": { "application/json": { "schema": {
            "type": "object", "required": ["task", "token"],
            "properties": { "task": { "type": "string" }, "token": { "type": "string" } }
          } } }
        },
        "responses": {
          "200": {
            "description": "The token is the agent's, and the agent has not ended",
            "content": { "application/json": { "schema": {
              "type": "object", "required": ["task", "runtime", "allowed_tools"],
              "properties": {
                "task": { "$ref": "#/components/schemas/TaskName" },
                "runtime": { "type": "string" },
                "allowed_tools": { "type": "array", "items": { "type": "string" } }
              }
            } } }
          },
          "400": { "$ref": "#/components/responses/BadRequest" },
          "401": { "description": "Missing or invalid bearer token, or {\"error\":\"invalid token\"}: not this agent's token, or the agent has ended", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
          "403": { "description": "The token belongs to another live agent", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
          "413": { "$ref": "#/components/responses/TooLarge" },
          "500": { "$ref": "#/components/responses/Internal" },
          "503": { "$ref": "#/components/responses/Unavailable" }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "control_plane_api.token (or FRACTA_CP_TOKEN); enforced on /api/v1 routes only when one is configured"
      }
    },
    "parameters": {
      "Task": {
        "name": "task", "in": "path", "required": true,
        "description": "The agent's name",
        "schema": { "$ref": "#/components/schemas/TaskName" }
      },
      "AfterSeq": {
        "name": "after_seq", "in": "query", "required": false,
        "description": "Only events with a greater seq",
        "schema": { "type": "integer", "minimum": 0, "default": 0 }
      }
    },
    "responses": {
      "BadRequest": { "description": "Invalid request: malformed JSON, a bad field, a bad task name or query parameter", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Unauthorized": {
        "description": "Missing or invalid bearer token",
        "headers": { "WWW-Authenticate": { "schema": { "type": "string", "const": "Bearer" } } },
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
      },
      "AgentNotFound": { "description": "agent \"x\" not found", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "TooLarge": { "description": "The request body is over the size cap (1 MiB)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Internal": { "description": "An unexpected failure of the store or the server", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "ProviderFailed": { "description": "The session provider failed", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Unavailable": { "description": "The store is unavailable for now; retry", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
      "Output": {
        "description": "Output text",
        "content": { "application/json": { "schema": {
          "type": "object", "required": ["output"],
          "properties": { "output": { "type": "string" } }
        } } }
      }
    },
    "schemas": {
      "Error": {
        "type": "object", "required": ["error"],
        "properties": { "error": { "type": "string" } }
      },
      "Health": {
        "type": "object", "required": ["status"],
        "properties": {
          "status": { "enum": ["ok", "ready", "draining", "unavailable"] },
          "error": { "type": "string" }
        }
      },
      "TaskName": {
        "type": "string",
        "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
      },
      "Status": {
        "description": "Terminal: Completed, Failed, Stopped",
        "enum": ["Pending", "Queued", "Running", "Idle", "Completed", "Failed", "Stopped"]
      },
      "StringMap": {
        "type": "object",
        "additionalProperties": { "type": "string" }
      },
      "SpawnRequest": {
        "type": "object", "required": ["task"],
        "properties": {
          "task": { "$ref": "#/components/schemas/TaskName" },
          "contract": { "type": "string", "description": "The instructions (for the shell runtime: the command line)" },
          "base_branch": { "type": "string", "description": "Default: the project's default base branch" },
          "model": { "type": "string" },
          "tier": { "enum": ["heavy", "medium", "light"], "description": "Picks the model from model_tiers" },
          "runtime": { "type": "string", "description": "claude, codex, opencode, shell or a configured one; default agents.default_runtime" },
          "mode": { "enum": ["batch", "stream"], "description": "Default: the project's default mode" },
          "dispatch": { "enum": ["queued", "direct"], "default": "queued", "description": "direct jumps the queue" },
          "priority": { "type": "integer", "minimum": -1000000, "maximum": 1000000, "default": 0 },
          "labels": { "$ref": "#/components/schemas/StringMap" },
          "parent": { "$ref": "#/components/schemas/TaskName", "description": "The spawning agent, for fractal spawns" },
          "env": { "$ref": "#/components/schemas/StringMap" },
          "check": { "type": "string", "description": "A command run (sh -c) in the worktree when the agent ends: exit 0 or the agent is Failed with its output as the reason. Default: project.check; empty: none" },
          "timeout": { "type": "string", "description": "A duration (30m, 2h): the agent is stopped and Failed with reason timeout after running this long. Default: agents.timeout; 0: none" }
        }
      },
      "SpawnResponse": {
        "type": "object",
        "required": ["agent", "status", "mode", "branch", "worktree", "mission_id"],
        "properties": {
          "agent": { "type": "string" },
          "status": { "$ref": "#/components/schemas/Status" },
          "mode": { "enum": ["batch", "stream"] },
          "branch": { "type": "string" },
          "worktree": { "type": "string" },
          "mission_id": { "type": "integer" }
        }
      },
      "Agent": {
        "type": "object",
        "required": ["name", "status", "mode", "runtime", "model", "branch", "base_branch", "workspace", "provider", "ref",
                     "current_intent", "unread_messages", "last_output", "exit_code", "reason", "resume_token", "attempt",
                     "parent", "labels", "check", "timeout", "turns", "input_tokens", "output_tokens", "cost_usd",
                     "created_at", "started_at", "ended_at", "heartbeat_at"],
        "properties": {
          "name": { "$ref": "#/components/schemas/TaskName" },
          "status": { "$ref": "#/components/schemas/Status" },
          "mode": { "enum": ["batch", "stream"] },
          "runtime": { "type": "string" },
          "model": { "type": "string" },
          "branch": { "type": "string" },
          "base_branch": { "type": "string" },
          "workspace": { "type": "string" },
          "provider": { "type": "string" },
          "ref": { "type": "string", "description": "The session's pid or pod" },
          "current_intent": { "type": "string" },
          "unread_messages": { "type": "integer", "minimum": 0 },
          "last_output": { "type": "string", "description": "Tail of the output, at most 4 KiB" },
          "exit_code": { "type": ["integer", "null"] },
          "reason": { "type": "string" },
          "resume_token": { "type": "string", "description": "The runtime's session id (claude session_id, codex thread_id, opencode sessionID): what a follow-up run resumes" },
          "attempt": { "type": "integer", "minimum": 0 },
          "parent": { "type": "string" },
          "labels": { "$ref": "#/components/schemas/StringMap" },
          "check": { "type": "string", "description": "The command its worktree must pass when it ends; empty: none" },
          "timeout": { "type": "string", "description": "Its time limit as a duration; empty: none" },
          "turns": { "type": ["integer", "null"], "minimum": 0, "description": "Turns of its last run, as the CLI counts them; null when not reported" },
          "input_tokens": { "type": ["integer", "null"], "minimum": 0, "description": "Prompt tokens of its last run, cached ones included; null when not reported" },
          "output_tokens": { "type": ["integer", "null"], "minimum": 0, "description": "Output tokens of its last run; null when not reported" },
          "cost_usd": { "type": ["number", "null"], "minimum": 0, "description": "Cost of its last run as the CLI reported it; null when not reported" },
          "created_at": { "type": "string", "description": "RFC 3339 UTC" },
          "started_at": { "type": "string", "description": "RFC 3339 UTC; empty until started" },
          "ended_at": { "type": "string", "description": "RFC 3339 UTC; empty until ended" },
          "heartbeat_at": { "type": "string", "description": "RFC 3339 UTC; empty until the first heartbeat" }
        }
      },
      "Event": {
        "type": "object", "required": ["type"],
        "description": "One entry of the event log. Served events always carry seq, type, ts and actor",
        "properties": {
          "seq": { "type": "integer", "minimum": 1, "readOnly": true },
          "type": { "type": "string", "minLength": 1, "examples": ["lifecycle.queued"] },
          "ts": { "type": "string", "format": "date-time", "description": "Default: when it was recorded" },
          "actor": { "type": "string" },
          "subject": { "type": "string" },
          "message": { "type": "string" },
          "payload": { "description": "Any JSON value" }
        }
      },
      "Message": {
        "type": "object", "required": ["id", "from", "to", "message", "created_at"],
        "properties": {
          "id": { "type": "integer" },
          "from": { "type": "string" },
          "to": { "type": "string" },
          "message": { "type": "string" },
          "created_at": { "type": "string", "format": "date-time" }
        }
      }
    }
  },
  "tags": [
    { "name": "operations", "description": "Health, readiness, metrics, this document (never behind the bearer token)" },
    { "name": "agents", "description": "Spawn, read, wait for, kill and merge agents" },
    { "name": "output", "description": "What an agent's session printed" },
    { "name": "events", "description": "The event log, per agent" },
    { "name": "messages", "description": "Talking to agents" },
    { "name": "auth", "description": "Token checks for the gateway" }
  ]
})json";

}  // namespace

const Json& openapi_document() {
    static const Json doc = [] {
        Json d = Json::parse(kDocument);
        d["info"]["version"] = FRACTA_VERSION;
        return d;
    }();
    return doc;
}

}  // namespace fracta::cp
