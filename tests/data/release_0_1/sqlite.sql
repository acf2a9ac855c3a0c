-- The schema release 0.1 made on sqlite: storage.db.init_schema's create_all (models.py, state.py),
-- captured from that code; tests/test_migrations.py builds a database of that release from it.
CREATE TABLE schema_version (
	id INTEGER NOT NULL,
	version INTEGER NOT NULL,
	PRIMARY KEY (id)
);

CREATE TABLE rooms (
	id VARCHAR NOT NULL,
	topic VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	grid VARCHAR,
	stairwell VARCHAR,
	auto_tickets BOOLEAN NOT NULL,
	transport VARCHAR,
	external_id VARCHAR,
	introduced BOOLEAN NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_rooms_external_id ON rooms (external_id);

CREATE INDEX ix_rooms_topic ON rooms (topic);

CREATE TABLE people (
	id VARCHAR NOT NULL,
	name VARCHAR NOT NULL,
	deleted BOOLEAN NOT NULL,
	PRIMARY KEY (id)
);

CREATE TABLE audit_log (
	id INTEGER NOT NULL,
	at DATETIME NOT NULL,
	actor_id VARCHAR NOT NULL,
	action VARCHAR NOT NULL,
	subject VARCHAR NOT NULL,
	PRIMARY KEY (id)
);

CREATE TABLE notices (
	id INTEGER NOT NULL,
	author_id VARCHAR NOT NULL,
	text TEXT NOT NULL,
	source VARCHAR NOT NULL,
	emergency BOOLEAN NOT NULL,
	tracked BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	chased BOOLEAN NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_notices_created_at ON notices (created_at);

CREATE TABLE state_flags (
	name VARCHAR NOT NULL,
	value VARCHAR NOT NULL,
	set_at DATETIME NOT NULL,
	PRIMARY KEY (name)
);

CREATE TABLE person_aliases (
	transport VARCHAR NOT NULL,
	external_id VARCHAR NOT NULL,
	person_id VARCHAR NOT NULL,
	source VARCHAR NOT NULL,
	PRIMARY KEY (transport, external_id),
	FOREIGN KEY(person_id) REFERENCES people (id)
);

CREATE INDEX ix_person_aliases_person_id ON person_aliases (person_id);

CREATE TABLE room_members (
	room_id VARCHAR NOT NULL,
	person_id VARCHAR NOT NULL,
	PRIMARY KEY (room_id, person_id),
	FOREIGN KEY(room_id) REFERENCES rooms (id),
	FOREIGN KEY(person_id) REFERENCES people (id)
);

CREATE TABLE role_grants (
	id INTEGER NOT NULL,
	person_id VARCHAR NOT NULL,
	role VARCHAR NOT NULL,
	scope VARCHAR NOT NULL,
	source VARCHAR NOT NULL,
	granted_by VARCHAR,
	PRIMARY KEY (id),
	UNIQUE (person_id, role, scope),
	FOREIGN KEY(person_id) REFERENCES people (id)
);

CREATE INDEX ix_role_grants_person_id ON role_grants (person_id);

CREATE TABLE messages (
	id INTEGER NOT NULL,
	transport VARCHAR NOT NULL,
	external_id VARCHAR NOT NULL,
	room_id VARCHAR,
	sender_id VARCHAR NOT NULL,
	sender_name VARCHAR NOT NULL,
	text TEXT NOT NULL,
	from_bot BOOLEAN NOT NULL,
	route VARCHAR,
	category VARCHAR,
	at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (transport, external_id),
	FOREIGN KEY(room_id) REFERENCES rooms (id)
);

CREATE INDEX ix_messages_at ON messages (at);

CREATE INDEX ix_messages_room_id ON messages (room_id);

CREATE TABLE outbox (
	id INTEGER NOT NULL,
	"key" VARCHAR NOT NULL,
	transport VARCHAR NOT NULL,
	room_id VARCHAR,
	"to" VARCHAR,
	mentions VARCHAR NOT NULL,
	text TEXT NOT NULL,
	priority INTEGER NOT NULL,
	status VARCHAR NOT NULL,
	attempts INTEGER NOT NULL,
	error VARCHAR,
	external_id VARCHAR,
	created_at DATETIME NOT NULL,
	due_at DATETIME NOT NULL,
	sent_at DATETIME,
	PRIMARY KEY (id),
	UNIQUE ("key"),
	FOREIGN KEY(room_id) REFERENCES rooms (id)
);

CREATE INDEX ix_outbox_due_at ON outbox (due_at);

CREATE INDEX ix_outbox_status ON outbox (status);

CREATE TABLE tickets (
	id INTEGER NOT NULL,
	room_id VARCHAR,
	stairwell VARCHAR,
	grid VARCHAR,
	reporter_id VARCHAR NOT NULL,
	category VARCHAR NOT NULL,
	urgent BOOLEAN NOT NULL,
	text TEXT NOT NULL,
	status VARCHAR NOT NULL,
	assignee_id VARCHAR,
	reporters INTEGER NOT NULL,
	rating VARCHAR,
	created_at DATETIME NOT NULL,
	due_at DATETIME NOT NULL,
	responded_at DATETIME,
	resolved_at DATETIME,
	closed_at DATETIME,
	PRIMARY KEY (id),
	FOREIGN KEY(room_id) REFERENCES rooms (id)
);

CREATE INDEX ix_tickets_room_id ON tickets (room_id);

CREATE INDEX ix_tickets_status ON tickets (status);

CREATE INDEX ix_tickets_created_at ON tickets (created_at);

CREATE INDEX ix_tickets_reporter_id ON tickets (reporter_id);

CREATE TABLE consultations (
	id INTEGER NOT NULL,
	room_id VARCHAR,
	asker_id VARCHAR NOT NULL,
	category VARCHAR NOT NULL,
	urgent BOOLEAN NOT NULL,
	text TEXT NOT NULL,
	faq_id VARCHAR,
	status VARCHAR NOT NULL,
	answer TEXT,
	answered_by VARCHAR,
	created_at DATETIME NOT NULL,
	answered_at DATETIME,
	PRIMARY KEY (id),
	FOREIGN KEY(room_id) REFERENCES rooms (id)
);

CREATE INDEX ix_consultations_asker_id ON consultations (asker_id);

CREATE INDEX ix_consultations_status ON consultations (status);

CREATE INDEX ix_consultations_room_id ON consultations (room_id);

CREATE TABLE notice_targets (
	notice_id INTEGER NOT NULL,
	room_id VARCHAR NOT NULL,
	PRIMARY KEY (notice_id, room_id),
	FOREIGN KEY(notice_id) REFERENCES notices (id),
	FOREIGN KEY(room_id) REFERENCES rooms (id)
);

CREATE TABLE receipts (
	notice_id INTEGER NOT NULL,
	person_id VARCHAR NOT NULL,
	room_id VARCHAR NOT NULL,
	at DATETIME NOT NULL,
	PRIMARY KEY (notice_id, person_id),
	FOREIGN KEY(notice_id) REFERENCES notices (id),
	FOREIGN KEY(room_id) REFERENCES rooms (id)
);

CREATE TABLE schedule_cursors (
	room_id VARCHAR NOT NULL,
	library VARCHAR NOT NULL,
	position INTEGER NOT NULL,
	PRIMARY KEY (room_id, library),
	FOREIGN KEY(room_id) REFERENCES rooms (id)
);

CREATE TABLE ticket_reporters (
	ticket_id INTEGER NOT NULL,
	person_id VARCHAR NOT NULL,
	PRIMARY KEY (ticket_id, person_id),
	FOREIGN KEY(ticket_id) REFERENCES tickets (id)
);

CREATE TABLE ticket_events (
	id INTEGER NOT NULL,
	ticket_id INTEGER NOT NULL,
	at DATETIME NOT NULL,
	actor_id VARCHAR NOT NULL,
	action VARCHAR NOT NULL,
	note TEXT NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(ticket_id) REFERENCES tickets (id)
);

CREATE INDEX ix_ticket_events_ticket_id ON ticket_events (ticket_id);
