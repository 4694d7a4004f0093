/// The director's API as OpenAPI 3.1, served at `/openapi.yaml`. `OpenAPITests` checks it against the router.
public enum OpenAPIDocument {
    public static let text = #"""
        openapi: 3.1.0
        info:
          title: Gold director API
          version: "1"
          description: >
            Inventory, fleet files, events and tokens of a Gold fleet. Every /v1 route takes
            `Authorization: Bearer <token>`; no token gives 401, a token whose role does not allow the call gives 403.
            Errors are `{"error": {"code", "message", "location", "problems"}}`.
        components:
          responses:
            Error:
              description: >-
                Any other status is an error in this shape: 400 or 422 for bad input (naming the field), 401 without a token,
                403 for a role that may not, 404 for what does not exist, 409 for a conflict, 413 for a body past its limit,
                429 past a quota, 503 for what this director does not run.
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
          securitySchemes:
            bearer: {type: http, scheme: bearer}
          schemas:
            Error:
              type: object
              properties:
                error:
                  type: object
                  required: [code, message]
                  properties:
                    code: {type: string}
                    message: {type: string}
                    location: {type: string}
                    problems: {type: array, items: {type: string}}
            Machine:
              type: object
              required: [spec, state, createdAt, updatedAt]
              properties:
                spec: {type: object, description: "the machine as the fleet file defines it (name, macs, boot, cpu, disks, network, users, services, kernel, binaries, checks, power)"}
                state: {type: string, enum: [new, provisioning, ready, updating, failed, intervention]}
                inventory: {type: object, description: "hardware facts the agent reported"}
                createdAt: {type: string, format: date-time}
                updatedAt: {type: string, format: date-time}
            Profile:
              type: object
              required: [name, settings]
              properties:
                name: {type: string}
                settings: {type: object}
            FleetPlan:
              type: object
              properties:
                added: {type: array, items: {type: string}}
                changed: {type: array, items: {type: object, properties: {machine: {type: string}, fields: {type: array, items: {type: string}}}}}
                removed: {type: array, items: {type: string}}
                kept: {type: array, items: {type: string}}
                unchanged: {type: array, items: {type: string}}
                profilesAdded: {type: array, items: {type: string}}
                profilesChanged: {type: array, items: {type: string}}
                profilesRemoved: {type: array, items: {type: string}}
            Event:
              type: object
              required: [id, at, actor, kind, message]
              properties:
                id: {type: integer}
                at: {type: string, format: date-time}
                actor: {type: string}
                kind: {type: string}
                machine: {type: string}
                message: {type: string}
                data: {}
            Token:
              type: object
              required: [id, role, label, createdAt]
              properties:
                id: {type: string}
                role: {type: string, enum: [admin, operator, viewer, server, agent]}
                machine: {type: string}
                label: {type: string}
                createdAt: {type: string, format: date-time}
                revokedAt: {type: string, format: date-time}
        security:
          - bearer: []
        paths:
          /healthz:
            get:
              summary: Liveness; no token needed.
              security: []
              responses: {"200": {description: ok}, "default": {$ref: "#/components/responses/Error"}}
          /metrics:
            get:
              summary: Prometheus metrics; no token needed.
              security: []
              responses: {"200": {description: Prometheus text format}, "default": {$ref: "#/components/responses/Error"}}
          /openapi.yaml:
            get:
              summary: This document.
              security: []
              responses: {"200": {description: OpenAPI YAML}, "default": {$ref: "#/components/responses/Error"}}
          /v1/whoami:
            get:
              summary: The caller's token id, role and bound machine.
              responses: {"200": {description: identity}, "401": {description: no token}, "default": {$ref: "#/components/responses/Error"}}
          /v1/machines:
            get:
              summary: Every machine, optionally filtered by role and state.
              parameters:
                - {name: role, in: query, schema: {type: string}}
                - {name: state, in: query, schema: {type: string}}
              responses:
                "default": {$ref: "#/components/responses/Error"}
                "200": {description: machines, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Machine"}}}}}
          /v1/machines/{name}:
            get:
              summary: One machine.
              parameters: [{name: name, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: machine}, "404": {description: no such machine}, "default": {$ref: "#/components/responses/Error"}}
          /v1/machines/{name}/inventory:
            put:
              summary: The agent on the machine (or a server) reports its hardware.
              parameters: [{name: name, in: path, required: true, schema: {type: string}}]
              requestBody: {required: true, content: {application/json: {schema: {type: object}}}}
              responses: {"204": {description: stored}, "403": {description: token bound to another machine}, "default": {$ref: "#/components/responses/Error"}}
          /v1/machines/{name}/next-boot:
            put:
              summary: What the machine boots into when its firmware next asks the network.
              parameters: [{name: name, in: path, required: true, schema: {type: string}}]
              requestBody:
                required: true
                content: {application/json: {schema: {type: object, required: [nextBoot], properties: {nextBoot: {type: string, description: "disk, once:MODE or always:MODE; MODE is deploy, rescue or discovery"}}}}}
              responses: {"204": {description: set}, "400": {description: not a next boot}, "404": {description: no such machine}, "default": {$ref: "#/components/responses/Error"}}
          /v1/machines/{name}/check-in:
            post:
              summary: The netboot environment checks in with its enrolment token; a one-shot netboot is consumed and a session token returned.
              parameters: [{name: name, in: path, required: true, schema: {type: string}}]
              requestBody: {required: true, content: {application/json: {schema: {type: object, required: [inventory], properties: {inventory: {type: object}}}}}}
              responses: {"200": {description: "machine, mode, token, nextBoot"}, "401": {description: "enrolment token used, expired or forged"}, "default": {$ref: "#/components/responses/Error"}}
          /v1/boot/script:
            get:
              summary: A machine's boot script (ipxe, pxelinux or grub), rendered from its next boot. Server role.
              parameters:
                - {name: mac, in: query, required: true, schema: {type: string}}
                - {name: loader, in: query, schema: {type: string, enum: [ipxe, pxelinux, grub]}}
                - {name: files, in: query, required: true, schema: {type: string}}
                - {name: director, in: query, required: true, schema: {type: string}}
              responses: {"200": {description: the script, content: {text/plain: {}}}, "404": {description: "unknown machine, ignored"}, "default": {$ref: "#/components/responses/Error"}}
          /v1/boot/fetches:
            post:
              summary: Files machines fetched from the boot servers (TFTP, HTTP), recorded as events. Server role.
              requestBody: {required: true, content: {application/json: {schema: {type: array, items: {type: object}}}}}
              responses: {"204": {description: recorded}, "default": {$ref: "#/components/responses/Error"}}
          /v1/machines/{name}/boot-success:
            post:
              summary: The installed agent reports that this boot, with this kernel, made it through (after boot-complete.target).
              parameters: [{name: name, in: path, required: true, schema: {type: string}}]
              requestBody: {required: true, content: {application/json: {schema: {type: object, required: [kernel], properties: {kernel: {type: string}}}}}}
              responses: {"204": {description: recorded}, "default": {$ref: "#/components/responses/Error"}}
          /v1/workflows:
            get:
              summary: Workflows, newest first.
              parameters:
                - {name: machine, in: query, schema: {type: string}}
                - {name: active, in: query, schema: {type: boolean}}
                - {name: limit, in: query, schema: {type: integer}}
              responses: {"200": {description: "workflows with every step's state, attempts, timing, progress"}, "default": {$ref: "#/components/responses/Error"}}
            post:
              summary: Starts a workflow (provision, restore, kernel-upgrade, software-update) on one machine; 409 names the workflow holding it.
              requestBody:
                required: true
                content: {application/json: {schema: {type: object, required: [kind, machine], properties: {kind: {type: string}, machine: {type: string}, parameters: {type: object}}}}}
              responses: {"201": {description: started}, "409": {description: the machine is held by another workflow}, "default": {$ref: "#/components/responses/Error"}}
          /v1/workflows/{id}:
            get:
              summary: One workflow.
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: workflow}, "404": {description: no such workflow}, "default": {$ref: "#/components/responses/Error"}}
          /v1/workflows/{id}/retry:
            post:
              summary: Retry the failed step of a workflow waiting for a person.
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: workflow}, "409": {description: not in an intervention}, "default": {$ref: "#/components/responses/Error"}}
          /v1/workflows/{id}/resolve:
            post:
              summary: A person did the failed step by hand; the workflow goes on.
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: workflow}, "409": {description: not in an intervention}, "default": {$ref: "#/components/responses/Error"}}
          /v1/workflows/{id}/abort:
            post:
              summary: Stops a workflow.
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: workflow}, "409": {description: already finished}, "default": {$ref: "#/components/responses/Error"}}
          /v1/rollouts:
            post:
              summary: Starts a rollout of kernel-upgrade, software-update or restore over the machines a selector picks; canary first, then batches.
              requestBody: {required: true, content: {application/json: {schema: {type: object, required: [kind, select], properties: {kind: {type: string}, select: {type: string, description: "role=ROLE, profile=NAME, name=A,B or all"}, canary: {type: integer}, batch: {type: integer}, max_failures: {type: integer}, parameters: {type: object}}}}}}
              responses: {"201": {description: the rollout}, "400": {description: "bad selector, sizes or kind"}, "default": {$ref: "#/components/responses/Error"}}
            get:
              summary: Rollouts, newest first (active=true for running and paused ones).
              parameters: [{name: active, in: query, schema: {type: boolean}}]
              responses: {"200": {description: rollouts}, "default": {$ref: "#/components/responses/Error"}}
          /v1/rollouts/{id}:
            get:
              summary: One rollout with every machine's batch, workflow and outcome.
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: the rollout}, "404": {description: no such rollout}, "default": {$ref: "#/components/responses/Error"}}
          /v1/rollouts/{id}/pause:
            post:
              summary: Holds the next batch; running workflows finish.
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: the rollout}, "409": {description: not running}, "default": {$ref: "#/components/responses/Error"}}
          /v1/rollouts/{id}/resume:
            post:
              summary: Resumes a paused rollout.
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: the rollout}, "409": {description: not paused}, "default": {$ref: "#/components/responses/Error"}}
          /v1/rollouts/{id}/abort:
            post:
              summary: Stops the rollout; workflows already running finish on their own.
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: the rollout}, "409": {description: already finished}, "default": {$ref: "#/components/responses/Error"}}
          /v1/interventions:
            get:
              summary: Workflows waiting for a person, with the reason, the failed step, what Gold did by itself, and the evidence.
              responses: {"200": {description: workflows}, "default": {$ref: "#/components/responses/Error"}}
          /v1/agent/commands:
            get:
              summary: The agent's queue for its machine; with wait, a long poll.
              parameters:
                - {name: machine, in: query, required: true, schema: {type: string}}
                - {name: wait, in: query, schema: {type: integer, maximum: 60}}
              responses: {"200": {description: commands}, "default": {$ref: "#/components/responses/Error"}}
          /v1/agent/spec:
            get:
              summary: The agent's own machine spec (binaries, services, checks).
              parameters: [{name: machine, in: query, required: true, schema: {type: string}}]
              responses: {"200": {description: the machine spec}, "403": {description: another machine's}, "default": {$ref: "#/components/responses/Error"}}
          /v1/agent/commands/{id}/result:
            post:
              summary: The agent reports a command's outcome.
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              requestBody: {required: true, content: {application/json: {schema: {type: object, required: [machine, ok], properties: {machine: {type: string}, ok: {type: boolean}, detail: {type: string}, outputs: {type: object}}}}}}
              responses: {"204": {description: recorded}, "default": {$ref: "#/components/responses/Error"}}
          /v1/agent/commands/{id}/progress:
            post:
              summary: Progress of a long agent command.
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              requestBody: {required: true, content: {application/json: {schema: {type: object, required: [machine, fraction], properties: {machine: {type: string}, fraction: {type: number}, detail: {type: string}}}}}}
              responses: {"204": {description: recorded}, "default": {$ref: "#/components/responses/Error"}}
          /v1/machines/{name}/backups/{binary}/{id}:
            put:
              summary: The machine's agent stores the file an update is about to replace (set id = the replace command's id). The body must hash to sha256.
              parameters:
                - {name: name, in: path, required: true, schema: {type: string}}
                - {name: binary, in: path, required: true, schema: {type: string}}
                - {name: id, in: path, required: true, schema: {type: string}}
                - {name: path, in: query, required: true, schema: {type: string}}
                - {name: mode, in: query, required: true, schema: {type: string, description: octal}}
                - {name: sha256, in: query, schema: {type: string}}
                - {name: absent, in: query, schema: {type: boolean, description: the machine had no file at path}}
              requestBody: {content: {application/octet-stream: {schema: {type: string, format: binary}}}}
              responses: {"200": {description: the backup set}, "400": {description: "bad path, mode or hash"}, "default": {$ref: "#/components/responses/Error"}}
          /v1/machines/{name}/backups/{binary}:
            get:
              summary: The machine's backup sets of a binary, oldest first, each file with path, mode, sha256 and size.
              parameters:
                - {name: name, in: path, required: true, schema: {type: string}}
                - {name: binary, in: path, required: true, schema: {type: string}}
              responses: {"200": {description: backup sets}, "default": {$ref: "#/components/responses/Error"}}
          /v1/machines/{name}/backups/{binary}/{id}/file:
            get:
              summary: One backed-up file's bytes.
              parameters:
                - {name: name, in: path, required: true, schema: {type: string}}
                - {name: binary, in: path, required: true, schema: {type: string}}
                - {name: id, in: path, required: true, schema: {type: string}}
                - {name: path, in: query, required: true, schema: {type: string}}
              responses: {"200": {description: the file}, "404": {description: no such backup or file}, "default": {$ref: "#/components/responses/Error"}}
          /v1/images:
            get:
              summary: Every machine with an image lineage, its deployed version and how many versions it has.
              responses: {"200": {description: lineages}, "503": {description: this director keeps no images}, "default": {$ref: "#/components/responses/Error"}}
          /v1/images/{machine}:
            get:
              summary: The machine's image versions, oldest first (parent, change, description, disks with size and sha256, which is current).
              parameters: [{name: machine, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: versions}, "400": {description: bad machine name}, "404": {description: no such machine}, "default": {$ref: "#/components/responses/Error"}}
          /v1/images/{machine}/diff:
            get:
              summary: Files added, removed or modified from one version to another.
              parameters:
                - {name: machine, in: path, required: true, schema: {type: string}}
                - {name: from, in: query, required: true, schema: {type: integer}}
                - {name: to, in: query, required: true, schema: {type: integer}}
              responses: {"200": {description: changes}, "404": {description: no such version}, "default": {$ref: "#/components/responses/Error"}}
          /v1/images/{machine}/chunk-diff:
            get:
              summary: "Chunk ranges that differ from one version to another, per disk (what `gold image diff` shows when a version, e.g. a capture, has no file list)."
              parameters:
                - {name: machine, in: path, required: true, schema: {type: string}}
                - {name: from, in: query, required: true, schema: {type: integer}}
                - {name: to, in: query, required: true, schema: {type: integer}}
              responses: {"200": {description: "{machine, from, to, disks: [{index, sizes, changedChunks, changedBytes, ranges: [{offset, length}]}]}"}, "404": {description: no such version}, "default": {$ref: "#/components/responses/Error"}}
          /v1/images/{machine}/captures:
            post:
              summary: "The machine's agent (token bound to it), a server or an admin begins capturing its disks as a new image version: returns the session id, the store's chunk size, the parent (the current version) and the disks to read (the fleet file's, else the parent's)."
              parameters: [{name: machine, in: path, required: true, schema: {type: string}}]
              responses: {"201": {description: "{id, machine, parent, chunkSize, disks: [{index, device, serial}]}"}, "400": {description: no disks known}, "403": {description: token not bound to the machine}, "404": {description: no such machine}, "default": {$ref: "#/components/responses/Error"}}
          /v1/images/{machine}/captures/{capture}/missing:
            post:
              summary: Which of the listed chunk hashes the store lacks (each once, in the order asked).
              parameters:
                - {name: machine, in: path, required: true, schema: {type: string}}
                - {name: capture, in: path, required: true, schema: {type: string}}
              requestBody: {required: true, content: {application/json: {schema: {type: object, description: "{chunks: [sha256 hex]} (at most 500000)"}}}}
              responses: {"200": {description: "{missing: [sha256 hex]}"}, "400": {description: "a hash is not 64 lowercase hex digits (location body.chunks[i])"}, "404": {description: no such session}, "default": {$ref: "#/components/responses/Error"}}
          /v1/images/{machine}/captures/{capture}/chunks/{sha256}:
            put:
              summary: "One chunk's bytes (application/octet-stream, at most the chunk size, not all zero). Stored under the image store's writer lock only when the body hashes to {sha256}; otherwise refused and nothing is stored."
              parameters:
                - {name: machine, in: path, required: true, schema: {type: string}}
                - {name: capture, in: path, required: true, schema: {type: string}}
                - {name: sha256, in: path, required: true, schema: {type: string}}
              requestBody: {required: true, content: {application/octet-stream: {schema: {type: string, format: binary}}}}
              responses: {"200": {description: "{sha256, stored}: stored false when the store already held it"}, "400": {description: "the body does not hash to the name, is empty, all zero or too long"}, "404": {description: no such session}, "default": {$ref: "#/components/responses/Error"}}
          /v1/images/{machine}/captures/{capture}/commit:
            post:
              summary: "Records the capture as the machine's next version (change capture, parent the session's, made current) from every disk's manifest: ordered chunk hashes (null for all-zero chunks), size, chunkSize, sha256. The director checks every chunk is stored and that they hash to each disk's sha256 before the version appears; a repeated commit answers the same version."
              parameters:
                - {name: machine, in: path, required: true, schema: {type: string}}
                - {name: capture, in: path, required: true, schema: {type: string}}
              requestBody: {required: true, content: {application/json: {schema: {type: object, description: "{disks: [{index, device, size, sha256, chunkSize, chunks: [sha256 hex | null]}], description}"}}}}
              responses: {"201": {description: "{machine, version, parent, change, current, disks, size, chunks, zeroChunks, uploadedChunks, uploadedBytes, alreadyStored}"}, "200": {description: the version an earlier commit of this session recorded}, "400": {description: "a malformed disk, a chunk of the wrong length, or chunks that do not hash to sha256 (location names the field)"}, "404": {description: no such session}, "409": {description: "chunks are not in the store (listed in error.problems): upload them and commit again; nothing was recorded"}, "default": {$ref: "#/components/responses/Error"}}
          /v1/images/{machine}/{version}:
            get:
              summary: "One version's manifest summary: size, SHA-256, chunks, zero ranges, new chunks against its parent, change, description, created, disks."
              parameters:
                - {name: machine, in: path, required: true, schema: {type: string}}
                - {name: version, in: path, required: true, description: a version number or `current`, schema: {type: string}}
              responses: {"200": {description: the version}, "400": {description: not a version number}, "404": {description: no such version}, "default": {$ref: "#/components/responses/Error"}}
          /v1/images/{machine}/{version}/disks/{disk}:
            get:
              summary: "A disk's whole raw image, Range supported; X-Gold-Image-SHA256 is the manifest's hash. Every chunk is verified: pieces up to 16 MiB fail with an error naming a corrupt chunk, longer bodies break off."
              parameters:
                - {name: machine, in: path, required: true, schema: {type: string}}
                - {name: version, in: path, required: true, schema: {type: string}}
                - {name: disk, in: path, required: true, description: the disk's index (0 for the first), schema: {type: integer}}
                - {name: Range, in: header, schema: {type: string}}
              responses: {"200": {description: the image}, "206": {description: the requested bytes}, "404": {description: no such version or disk}, "416": {description: range outside the image}, "500": {description: a chunk is corrupt or missing}, "default": {$ref: "#/components/responses/Error"}}
          /v1/image-store/gc:
            post:
              summary: "Admin: removes image versions outside the rule (newest `keep` per machine, default 3; always each machine's current version and the versions running workflows use), then every chunk no remaining version names."
              requestBody: {required: true, content: {application/json: {schema: {type: object, description: "{keep: N >= 1, dryRun: bool}"}}}}
              responses: {"200": {description: "what was (or on a dry run would be) removed: versions per machine with reasons, chunks and bytes freed"}, "400": {description: keep below 1}, "default": {$ref: "#/components/responses/Error"}}
          /v1/jobs:
            get:
              summary: Compile jobs (kernels and binaries), oldest first, with state, worker, attempts and outcome.
              responses: {"200": {description: jobs}, "503": {description: no compile role in this process}, "default": {$ref: "#/components/responses/Error"}}
            post:
              summary: Submits the kernel and binary builds the named machines need (cached; equal inputs share one job).
              requestBody: {required: true, content: {application/json: {schema: {type: object, description: "{machines: [names]}"}}}}
              responses: {"200": {description: the jobs}, "404": {description: no such machine}, "default": {$ref: "#/components/responses/Error"}}
          /v1/jobs/{key}:
            get:
              summary: One compile job; a unique key prefix (6+ hex digits) is enough.
              parameters: [{name: key, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: the job}, "404": {description: no such job}, "default": {$ref: "#/components/responses/Error"}}
          /v1/jobs/{key}/log:
            get:
              summary: The job's build log from a byte offset; poll with the returned next offset to follow it.
              parameters:
                - {name: key, in: path, required: true, schema: {type: string}}
                - {name: offset, in: query, schema: {type: integer}}
              responses: {"200": {description: "{text, next, finished}"}, "default": {$ref: "#/components/responses/Error"}}
            post:
              summary: Appends build log text from the worker holding the lease; 409 when the lease is lost.
              parameters: [{name: key, in: path, required: true, schema: {type: string}}]
              requestBody: {required: true, content: {application/json: {schema: {type: object, description: "{lease, text}"}}}}
              responses: {"204": {description: appended}, "409": {description: lease lost}, "default": {$ref: "#/components/responses/Error"}}
          /v1/jobs/{key}/cancel:
            post:
              summary: Stops a queued or building job; its worker's next heartbeat fails and the build is killed.
              parameters: [{name: key, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: the job}, "default": {$ref: "#/components/responses/Error"}}
          /v1/jobs/lease:
            post:
              summary: A compile server asks for the oldest queued job (or one whose lease expired); 204 when there is none.
              requestBody: {required: true, content: {application/json: {schema: {type: object, description: "{worker, ttlSeconds (5-3600)}"}}}}
              responses: {"200": {description: the lease}, "204": {description: no job}, "400": {description: bad request}, "default": {$ref: "#/components/responses/Error"}}
          /v1/jobs/{key}/heartbeat:
            post:
              summary: Renews the worker's lease; 409 when it is no longer the job's current lease (expired, cancelled, done).
              parameters: [{name: key, in: path, required: true, schema: {type: string}}]
              requestBody: {required: true, content: {application/json: {schema: {type: object, description: the lease}}}}
              responses: {"200": {description: the renewed lease}, "409": {description: lease lost}, "default": {$ref: "#/components/responses/Error"}}
          /v1/jobs/{key}/complete:
            post:
              summary: Ends the job with an artifact (already published with PUT /v1/artifacts/{key}) or a failure.
              parameters: [{name: key, in: path, required: true, schema: {type: string}}]
              requestBody: {required: true, content: {application/json: {schema: {type: object, description: "{lease, outcome}"}}}}
              responses: {"204": {description: completed}, "400": {description: artifact not published}, "409": {description: lease lost}, "default": {$ref: "#/components/responses/Error"}}
          /v1/artifacts/{key}:
            get:
              summary: An artifact's manifest (files with SHA-256, size, mode; build metadata).
              parameters: [{name: key, in: path, required: true, schema: {type: string}}]
              responses: {"200": {description: the manifest}, "404": {description: not built}, "default": {$ref: "#/components/responses/Error"}}
            put:
              summary: Publishes an artifact whose files were uploaded as blobs; refused, naming them, if any is missing.
              parameters: [{name: key, in: path, required: true, schema: {type: string}}]
              requestBody: {required: true, content: {application/json: {schema: {type: object, description: "{files, metadata}"}}}}
              responses: {"200": {description: the manifest}, "400": {description: files missing}, "default": {$ref: "#/components/responses/Error"}}
          /v1/artifacts/blobs/{sha}:
            put:
              summary: Uploads one artifact file, stored only if its SHA-256 is the one in the path.
              parameters: [{name: sha, in: path, required: true, schema: {type: string}}]
              requestBody: {required: true, content: {application/octet-stream: {schema: {type: string, format: binary}}}}
              responses: {"204": {description: stored}, "400": {description: hash mismatch}, "default": {$ref: "#/components/responses/Error"}}
          /v1/profiles:
            get:
              summary: Every profile.
              responses: {"200": {description: profiles}, "default": {$ref: "#/components/responses/Error"}}
          /v1/fleet/validate:
            post:
              summary: Validates a fleet file (YAML body); 422 lists every problem with file, line and field.
              parameters: [{name: file, in: query, schema: {type: string}}]
              requestBody: {required: true, content: {application/yaml: {schema: {type: string}}}}
              responses: {"200": {description: counts}, "422": {description: problems}, "default": {$ref: "#/components/responses/Error"}}
          /v1/fleet/apply:
            post:
              summary: Applies a fleet file in one transaction and returns the diff; nothing changes on any problem.
              parameters:
                - {name: file, in: query, schema: {type: string}}
                - {name: dry_run, in: query, schema: {type: boolean}}
                - {name: prune, in: query, schema: {type: boolean}}
              requestBody: {required: true, content: {application/yaml: {schema: {type: string}}}}
              responses:
                "default": {$ref: "#/components/responses/Error"}
                "200": {description: plan, content: {application/json: {schema: {$ref: "#/components/schemas/FleetPlan"}}}}
                "409": {description: conflicts with the stored fleet}
                "422": {description: problems}
          /v1/events:
            get:
              summary: Events after an id, oldest first; with wait, a long poll; with newest, the newest N, oldest first.
              parameters:
                - {name: newest, in: query, schema: {type: integer, minimum: 1, maximum: 1000}}
                - {name: after, in: query, schema: {type: integer}}
                - {name: machine, in: query, schema: {type: string}}
                - {name: limit, in: query, schema: {type: integer, maximum: 1000}}
                - {name: wait, in: query, schema: {type: integer, maximum: 60}}
              responses:
                "default": {$ref: "#/components/responses/Error"}
                "200": {description: events, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Event"}}}}}
          /v1/tokens:
            get:
              summary: Every token (never the secrets). Admin only.
              responses: {"200": {description: tokens}, "default": {$ref: "#/components/responses/Error"}}
            post:
              summary: Creates a token; the secret is shown once. Admin only.
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {type: object, required: [role], properties: {role: {type: string}, machine: {type: string}, label: {type: string}}}
              responses: {"201": {description: created}, "400": {description: bad role or machine binding}, "default": {$ref: "#/components/responses/Error"}}
          /v1/tokens/{id}:
            delete:
              summary: Revokes a token. Admin only.
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              responses: {"204": {description: revoked}, "404": {description: no live token}, "default": {$ref: "#/components/responses/Error"}}
        """#
}
