"""Participatory processes, proposals and supports. (Pages come with the proposals UI.)"""
